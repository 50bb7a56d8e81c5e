package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestProjectRulesEndToEnd runs the real binary: an event ingested before a
// rule is saved through the management API keeps the matching text, one
// ingested right after it does not; another tenant's project is 404; what
// is checked is what `veil export events` reads back from storage.
func TestProjectRulesEndToEnd(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VEIL_DATA": dir}
	cmd, base, _, stderr := startServe(t, []string{"VEIL_DATA=" + dir}, "--demo")
	var demo struct {
		OrgID     string `json:"org_id"`
		ProjectID string `json:"project_id"`
		ServerKey string `json:"server_key"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo-credentials.json"))
	if err != nil || json.Unmarshal(b, &demo) != nil {
		t.Fatalf("demo credentials: %v %s", err, b)
	}
	tok := decode[struct{ Token string }](t, mustVeil(t, env, "token", "create", "--org", demo.OrgID, "--role", "admin", "--json").stdout).Token
	other := decode[struct {
		ProjectID string `json:"project_id"`
	}](t, mustVeil(t, env, "project", "create", "--org", "other", "--name", "theirs", "--json").stdout).ProjectID

	track := func(id string) {
		t.Helper()
		body := `{"type":"track","event":"Badge","userId":"u1","messageId":"` + id + `","properties":{"note":"badge EMP-123456"}}`
		req, _ := http.NewRequest("POST", base+"/v1/track", strings.NewReader(body))
		req.SetBasicAuth(demo.ServerKey, "")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("track %s: %v %v", id, err, resp)
		}
		resp.Body.Close()
	}
	api := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	track("before")
	rules := `{"custom_rules":[{"name":"employee-id","pattern":"EMP-\\d{6}"}]}`
	if code, body := api("PUT", "/api/v1/orgs/"+demo.OrgID+"/projects/"+demo.ProjectID+"/scrub-rules", `{"custom_rules":[{"name":"x","pattern":"EMP-("}]}`); code != 400 || !strings.Contains(body, `custom_rules[0] \"x\": pattern is not valid Go RE2 syntax`) {
		t.Fatalf("invalid rules: %d %s", code, body)
	}
	if code, body := api("PUT", "/api/v1/orgs/"+demo.OrgID+"/projects/"+other+"/scrub-rules", rules); code != 404 {
		t.Fatalf("another tenant's project: %d %s", code, body)
	}
	if code, body := api("PUT", "/api/v1/orgs/"+demo.OrgID+"/projects/"+demo.ProjectID+"/scrub-rules", rules); code != 200 {
		t.Fatalf("save rules: %d %s", code, body)
	}
	track("after")

	cmd.Process.Signal(syscall.SIGTERM) // the packer stores what the log holds
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
	out := mustVeil(t, env, "export", "events", "--project", demo.ProjectID).stdout
	notes := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			MessageID  string            `json:"messageId"`
			Properties map[string]string `json:"properties"`
		}
		if json.Unmarshal([]byte(line), &m) == nil && m.MessageID != "" {
			notes[m.MessageID] = m.Properties["note"]
		}
	}
	if notes["before"] != "badge EMP-123456" || notes["after"] != "badge [Filtered]" {
		t.Fatalf("stored notes %v; want the rule applied from the request after it was saved\n%s", notes, out)
	}
}
