// Command veil is Veil's single binary: the server and its admin commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	_ "github.com/veil-privacy/veil/internal/blob/local" // register file:// blobs
	_ "github.com/veil-privacy/veil/internal/blob/s3"    // register s3:// blobs
)

// cli carries a command's standard streams and environment, so tests run
// commands in-process exactly as main does.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the server (--demo for a ready-to-try demo)", runServe},
		{"migrate", "apply database schema migrations", runMigrate},
		{"doctor", "report the security posture of an installation", runDoctor},
		{"project", "create and list projects", runProject},
		{"key", "manage write keys and the master key", runKey},
		{"org", "create and list organisations", runOrg},
		{"user", "create dashboard users, reset their MFA, clear log-in locks", runUser},
		{"token", "create, list and revoke management API tokens", runToken},
		{"audit", "verify and export the hash-chained audit log", runAudit},
		{"export", "export stored events or a session replay (decrypted)", runExport},
		{"delete", "delete one recording (crypto-shredding) and compact packs", runDelete},
		{"retention", "set, show and run data retention per project", runRetention},
		{"recompress", "re-seal stored replay segments from S2 to zstd (smaller at rest) now", runRecompress},
		{"erase", "erase one user's recordings and events (GDPR), print a certificate", runErase},
		{"backup", "create, verify and restore sealed backups", runBackup},
		{"anonymize", "write an anonymized copy of the data for staging (fake ids, masked replays)", runAnonymize},
		{"webhook", "manage webhook endpoints, test them and see their delivery log", runWebhook},
		{"destination", "push recordings to your S3 or SFTP storage (copy or do_not_store)", runDestination},
		{"scrub", "scrub personal data from stdin (test scrubbing rules)", runScrub},
		{"bench", "measure ingest throughput and latency", runBench},
		{"version", "print the version", runVersion},
	}
}

func main() {
	// Everything Veil writes (database, keys, blobs) is private to its user.
	syscall.Umask(0o077)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
}

// usageError marks errors in how a command was called (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// run executes one command line and returns the process exit status:
// 0 success (and --help), 1 failure, 2 bad usage. Errors are printed as one
// line on stderr, never as a stack trace.
func run(ctx context.Context, args []string, c *cli) int {
	err := dispatch(ctx, c, "veil", commands(), args)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "veil: %s\n", oneLine(err.Error()))
		return 2
	default:
		fmt.Fprintf(c.stderr, "veil: %s\n", oneLine(err.Error()))
		return 1
	}
}

// dispatch runs the sub-command named by args[0] from cmds.
func dispatch(ctx context.Context, c *cli, prog string, cmds []command, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 && args[0] == "help" { // "veil help serve" = "veil serve --help"
			return dispatch(ctx, c, prog, cmds, []string{args[1], "--help"})
		}
		printCommands(c.stdout, prog, cmds)
		if len(args) == 0 {
			return usagef("no command given; see `%s --help`", prog)
		}
		return nil
	}
	for _, cmd := range cmds {
		if cmd.name == args[0] {
			return cmd.run(ctx, c, args[1:])
		}
	}
	names := make([]string, len(cmds))
	for i, cmd := range cmds {
		names[i] = cmd.name
	}
	sort.Strings(names)
	return usagef("unknown command %q for %s (want one of: %s)", args[0], prog, strings.Join(names, ", "))
}

func printCommands(w io.Writer, prog string, cmds []command) {
	fmt.Fprintf(w, "Usage: %s <command> [flags]\n\nCommands:\n", prog)
	for _, cmd := range cmds {
		fmt.Fprintf(w, "  %-16s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, "\nRun `%s <command> --help` for a command's flags. Every flag can also be set\nwith an environment variable: --some-flag reads VEIL_SOME_FLAG.\n", prog)
}

// newFlags returns a flag set that prints usage to stdout on --help and
// returns errors instead of exiting.
func newFlags(c *cli, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stdout, "Usage: %s\n\nFlags (each also read from VEIL_<FLAG> in the environment):\n", usage)
		fs.SetOutput(c.stdout)
		fs.PrintDefaults()
		fs.SetOutput(c.stderr)
	}
	return fs
}

// parseFlags parses args, rejecting stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	// The flag package calls Usage itself on -h and on every bad flag; we
	// print usage once for --help and a one-line error otherwise.
	fs.SetOutput(io.Discard)
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	if err != nil {
		return usagef("%s: %v (see `veil %s --help`)", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q (see `veil %s --help`)", fs.Name(), fs.Arg(0), fs.Name())
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// stringList is a repeatable string flag (--origin A --origin B).
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
