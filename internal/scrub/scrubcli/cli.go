// Package scrubcli implements `veil scrub`: operators pipe a real sample
// through a project's rules and see what would be removed.
//
//	veil scrub [--rules FILE] [--format json|text|rrweb] [--project ID] < sample
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
  --project ID              accepted for the future: per-project rules are not stored
                            yet, so the ID is only noted; pass the rules with --rules
  -h, --help                show this help

Detectors: %s
`

// Run parses args and scrubs stdin to stdout. It returns flag.ErrHelp
// after printing usage for -h/--help.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("veil scrub", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "text", "")
	rulesFile := fs.String("rules", "", "")
	project := fs.String("project", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) { // asked for: usage on stdout
			fmt.Fprintf(stdout, usage, strings.Join(scrub.Detectors(), ", "))
			return flag.ErrHelp
		}
		return fmt.Errorf("veil scrub: %w (see `veil scrub --help`)", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("veil scrub: unexpected argument %q (input is read from stdin)", fs.Arg(0))
	}
	var rules scrub.Rules
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
		fmt.Fprintf(stderr, "project %s: stored project rules are not supported yet; used --rules/defaults\n", *project)
	}
	writeSummary(stderr, rep)
	return nil
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
