// Package scrubcli implements `veil scrub`: operators pipe a real sample
// through a project's rules and see what would be removed.
//
//	veil scrub [--rules FILE | --project ID] [--format json|text|rrweb] < sample
//
// The scrubbed sample goes to stdout, a per-detector summary to stderr.
// Values are never printed to stderr.
package scrubcli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/veil-privacy/veil/internal/scrub"
)

// MaxInput is the most stdin Run reads.
const MaxInput = 64 << 20

const usage = `Usage: veil scrub [flags] < input > output

Reads a sample from stdin, scrubs it with the built-in detectors and the
given rules, writes the result to stdout and a summary of redactions per
detector to stderr (never the removed values).

Flags:
  --format json|text|rrweb  how to read the input (default text):
                              json   one JSON document (event properties, a Segment message or batch)
                              rrweb  a JSON array of rrweb events (text is masked with '*')
                              text   free text
  --rules FILE              project rules as JSON, e.g.
                              {"disabled":["ipv4","ipv6"],
                               "custom_rules":[{"name":"employee-id","pattern":"EMP-\\d{6}"}],
                               "safe_fields":["order_id","context.ip"],
                               "sensitive_fields":["date_of_birth"],
                               "replacement":"[Filtered]"}
  --project ID              use the rules stored for this project, exactly as ingest
                            applies them (storage flags: --data, --database; see
                            "veil project rules get"); not with --rules
  -h, --help                show this help
%s
Detectors: %s
`

// Options connect Run to stored project rules.
type Options struct {
	// Bind adds flags (the storage flags) to the command's flag set.
	Bind func(fs *flag.FlagSet)
	// Project returns the rules ingest applies for a project (its stored
	// rules plus the built-in safe fields). fs is the parsed flag set.
	Project func(fs *flag.FlagSet, id string) (scrub.Rules, error)
}

// Run parses args and scrubs stdin to stdout with the built-in or given
// rules (no --project). It returns flag.ErrHelp after printing usage for
// -h/--help.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return RunWith(args, stdin, stdout, stderr, Options{})
}

// RunWith is Run with stored project rules available through o.
func RunWith(args []string, stdin io.Reader, stdout, stderr io.Writer, o Options) error {
	fs := flag.NewFlagSet("veil scrub", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "text", "")
	rulesFile := fs.String("rules", "", "")
	project := fs.String("project", "", "")
	if o.Bind != nil {
		o.Bind(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) { // asked for: usage on stdout
			fmt.Fprintf(stdout, usage, extraFlags(fs), strings.Join(scrub.Detectors(), ", "))
			return flag.ErrHelp
		}
		return fmt.Errorf("veil scrub: %w (see `veil scrub --help`)", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("veil scrub: unexpected argument %q (input is read from stdin)", fs.Arg(0))
	}
	var rules scrub.Rules
	switch {
	case *project != "" && *rulesFile != "":
		return fmt.Errorf("veil scrub: use --rules FILE or --project ID, not both")
	case *project != "" && o.Project == nil:
		return fmt.Errorf("veil scrub: --project needs the storage of a Veil installation")
	case *project != "":
		r, err := o.Project(fs, *project)
		if err != nil {
			return fmt.Errorf("veil scrub: %w", err)
		}
		rules = r
	}
	if *rulesFile != "" {
		b, err := os.ReadFile(*rulesFile)
		if err != nil {
			return fmt.Errorf("veil scrub: read rules: %w", err)
		}
		if err := json.Unmarshal(b, &rules); err != nil {
			return fmt.Errorf("veil scrub: rules file %s is not valid JSON: %w", *rulesFile, err)
		}
	}
	s, err := scrub.New(rules)
	if err != nil {
		return fmt.Errorf("veil scrub: %w", err)
	}
	in, err := io.ReadAll(io.LimitReader(stdin, MaxInput+1))
	if err != nil {
		return fmt.Errorf("veil scrub: read stdin: %w", err)
	}
	if len(in) > MaxInput {
		return fmt.Errorf("veil scrub: input larger than %d bytes", MaxInput)
	}
	var out []byte
	var rep scrub.Report
	switch *format {
	case "text":
		var t string
		t, rep = s.Text(string(in))
		out = []byte(t)
	case "json":
		out, rep, err = s.JSON(in)
	case "rrweb":
		out, rep, err = s.RRWeb(in)
	default:
		return fmt.Errorf("veil scrub: --format must be json, text or rrweb, not %q", *format)
	}
	if err != nil {
		return fmt.Errorf("veil scrub: %w", err)
	}
	if _, err := stdout.Write(out); err != nil {
		return fmt.Errorf("veil scrub: write output: %w", err)
	}
	if *project != "" {
		fmt.Fprintf(stderr, "rules: stored rules of project %s\n", *project)
	}
	writeSummary(stderr, rep)
	return nil
}

// extraFlags lists the flags Options.Bind added, for the usage text.
func extraFlags(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		switch f.Name {
		case "format", "rules", "project":
			return
		}
		fmt.Fprintf(&b, "  --%-23s %s\n", f.Name, f.Usage)
	})
	if b.Len() == 0 {
		return ""
	}
	return "\nStorage flags (with --project; each also read from VEIL_<FLAG>):\n" + b.String()
}

func writeSummary(w io.Writer, rep scrub.Report) {
	names := make([]string, 0, len(rep))
	for k := range rep {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "%-20s %s\n", "detector", "redactions")
	for _, k := range names {
		fmt.Fprintf(w, "%-20s %d\n", k, rep[k])
	}
	fmt.Fprintf(w, "%-20s %d\n", "total", rep.Total())
}
