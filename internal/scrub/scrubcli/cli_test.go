package scrubcli_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/scrub/scrubcli"
)

func run(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := scrubcli.Run(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

func TestRun(t *testing.T) {
	t.Run("Text", func(t *testing.T) {
		out, summary, err := run(t, "mail bob@example.com card 4111 1111 1111 1111\n")
		if err != nil {
			t.Fatal(err)
		}
		if out != "mail [Filtered] card [Filtered]\n" {
			t.Errorf("out = %q", out)
		}
		if !strings.Contains(summary, "email") || !strings.Contains(summary, "total                2") || strings.Contains(summary, "bob@") {
			t.Errorf("summary = %q", summary)
		}
	})
	t.Run("JSONWithRules", func(t *testing.T) {
		dir := t.TempDir()
		rules := filepath.Join(dir, "rules.json")
		os.WriteFile(rules, []byte(`{"safe_fields":["contact"],"custom_rules":[{"name":"emp","pattern":"EMP-\\d+"}]}`), 0o600)
		out, summary, err := run(t, `{"contact":"a@b.com","note":"EMP-77 c@d.com"}`, "--format", "json", "--rules", rules)
		if err != nil {
			t.Fatal(err)
		}
		if out != `{"contact":"a@b.com","note":"[Filtered] [Filtered]"}` {
			t.Errorf("out = %s", out)
		}
		if !strings.Contains(summary, "custom:emp") {
			t.Errorf("summary = %q", summary)
		}
	})
	t.Run("RRWeb", func(t *testing.T) {
		out, _, err := run(t, `[{"type":4,"data":{"href":"https://x.example/?email=bob%40example.com"}}]`, "--format=rrweb")
		if err != nil {
			t.Fatal(err)
		}
		if out != `[{"type":4,"data":{"href":"https://x.example/?email=*****************"}}]` {
			t.Errorf("out = %s", out)
		}
	})
	t.Run("Help", func(t *testing.T) {
		usage, _, err := run(t, "", "--help")
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(usage, "--project ID") || !strings.Contains(usage, "stored for this project") {
			t.Errorf("err=%v usage=%q", err, usage)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct {
			stdin string
			args  []string
			want  string
		}{
			{`{"a":`, []string{"--format", "json"}, "invalid JSON"},
			{`x`, []string{"--format", "yaml"}, "--format must be"},
			{`x`, []string{"--rules", "/nonexistent/rules.json"}, "read rules"},
			{`x`, []string{"extra"}, "unexpected argument"},
			{`x`, []string{"--project", "prj_1"}, "needs the storage"},
			{`x`, []string{"--project", "prj_1", "--rules", "r.json"}, "not both"},
		} {
			out, _, err := run(t, tc.stdin, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || out != "" {
				t.Errorf("%v: err=%v out=%q", tc.args, err, out)
			}
		}
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.json")
		os.WriteFile(bad, []byte(`{"custom_rules":[{"name":"x","pattern":"(a"}]}`), 0o600)
		if _, _, err := run(t, "x", "--rules", bad); err == nil || !strings.Contains(err.Error(), "RE2") {
			t.Errorf("bad rule: %v", err)
		}
	})
}
