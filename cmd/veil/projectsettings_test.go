package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProjectRulesCLI: `veil project rules|sdk get|set` validate, store and
// print a project's settings, and `veil scrub --project` applies the
// stored rules exactly as ingest does.
func TestProjectRulesCLI(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VEIL_DATA": dir}
	np := decode[struct {
		ProjectID string `json:"project_id"`
	}](t, mustVeil(t, env, "project", "create", "--name", "shop", "--json").stdout)
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	for _, tt := range []struct{ file, want string }{
		{`{"custom_rules":[{"name":"x","pattern":"(a"}]}`, `custom_rules[0] "x": pattern is not valid Go RE2 syntax`},
		{`{"disabled":["ipv9"]}`, `disabled: unknown detector "ipv9"`},
		{`{"custom_rule":[]}`, `unknown field "custom_rule"`},
	} {
		r := runVeil(t, env, "project", "rules", "set", "--project", np.ProjectID, "--file", write("bad.json", tt.file))
		if r.code == 0 || !strings.Contains(errLine(t, r), tt.want) {
			t.Errorf("rules set %s: exit %d, %q; want %q", tt.file, r.code, r.stderr, tt.want)
		}
	}
	if r := runVeil(t, env, "project", "rules", "set", "--project", "prj_nope", "--file", write("ok.json", `{}`)); r.code == 0 || !strings.Contains(errLine(t, r), "Project not found") {
		t.Errorf("unknown project: %d %q", r.code, r.stderr)
	}

	rules := write("rules.json", `{"custom_rules":[{"name":"employee-id","pattern":"EMP-\\d{6}"}],"safe_fields":["order_id"]}`)
	if out := mustVeil(t, env, "project", "rules", "set", "--project", np.ProjectID, "--file", rules).stdout; !strings.Contains(out, "settings version 1") {
		t.Errorf("rules set: %q", out)
	}
	if out := mustVeil(t, env, "project", "rules", "get", "--project", np.ProjectID).stdout; !strings.Contains(out, `"name": "employee-id"`) || !strings.Contains(out, `"order_id"`) {
		t.Errorf("rules get: %s", out)
	}
	if out := mustVeil(t, env, "project", "sdk", "set", "--project", np.ProjectID, "--file", write("sdk.json", `{"mask_all_text":true,"console":"off"}`)).stdout; !strings.Contains(out, "settings version 2") {
		t.Errorf("sdk set: %q", out)
	}
	if out := mustVeil(t, env, "project", "sdk", "get", "--project", np.ProjectID).stdout; !strings.Contains(out, `"mask_all_text": true`) || !strings.Contains(out, `"network": "page"`) {
		t.Errorf("sdk get: %s", out)
	}
	if r := runVeil(t, env, "project", "sdk", "set", "--project", np.ProjectID, "--file", write("badsdk.json", `{"sample_rate":3}`)); r.code == 0 || !strings.Contains(errLine(t, r), "sample_rate") {
		t.Errorf("bad sdk settings: %d %q", r.code, r.stderr)
	}
	if out := mustVeil(t, env, "audit", "export", "--org", "default").stdout; !strings.Contains(out, "project.scrub_rules_change") || !strings.Contains(out, "project.sdk_settings_change") {
		t.Errorf("audit log lacks the changes:\n%.2000s", out)
	}

	// veil scrub --project: the stored rules plus the SDK's session id.
	var out, errb bytes.Buffer
	in := `{"order_id":"4111111111111111","note":"EMP-123456 bob@example.com","context":{"veil":{"sessionId":"abc"}}}`
	c := &cli{stdin: strings.NewReader(in), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	if code := run(context.Background(), []string{"scrub", "--format", "json", "--project", np.ProjectID}, c); code != 0 {
		t.Fatalf("scrub --project: exit %d: %s", code, errb.String())
	}
	if want := `{"order_id":"4111111111111111","note":"[Filtered] [Filtered]","context":{"veil":{"sessionId":"abc"}}}`; out.String() != want {
		t.Errorf("scrub --project output %s, want %s", out.String(), want)
	}
	if !strings.Contains(errb.String(), "custom:employee-id") || strings.Contains(errb.String(), "EMP-") {
		t.Errorf("summary: %s", errb.String())
	}

	for _, args := range [][]string{{"project", "rules", "set", "--help"}, {"project", "sdk", "get", "--help"}, {"scrub", "--help"}} {
		if r := runVeil(t, env, args...); r.code != 0 || !strings.Contains(r.stdout, "--project") {
			t.Errorf("%v: %d %q", args, r.code, r.stdout)
		}
	}
}
