package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// runVeilIn is runVeil with stdin.
func runVeilIn(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code := run(context.Background(), args, c)
	return result{out.String(), errb.String(), code}
}

func TestAccountsHelp(t *testing.T) {
	for _, args := range [][]string{
		{"org"}, {"org", "create"}, {"org", "list"},
		{"user"}, {"user", "create"}, {"user", "reset-mfa"}, {"user", "unlock"}, {"user", "set-password"},
		{"token"}, {"token", "create"}, {"token", "list"}, {"token", "revoke"},
		{"audit"}, {"audit", "verify"}, {"audit", "export"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runVeil(t, nil, append(args, "--help")...)
			if r.code != 0 || !strings.Contains(r.stdout, "Usage: veil") {
				t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestAccountsCLI: organisations, users, tokens and the audit log from the
// command line, including tamper detection.
func TestAccountsCLI(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VEIL_DATA": dir}
	org := decode[map[string]string](t, mustVeil(t, env, "org", "create", "--name", "acme", "--json").stdout)
	if !strings.HasPrefix(org["org_id"], "org_") {
		t.Fatalf("org create: %v", org)
	}
	if r := runVeilIn(t, env, "short\n", "user", "create", "--email", "a@acme.test", "--org", "acme", "--role", "owner", "--password-stdin"); r.code != 1 || !strings.Contains(errLine(t, r), "at least 12") {
		t.Fatalf("weak password: %d %s", r.code, r.stderr)
	}
	if r := runVeil(t, env, "user", "create", "--email", "a@acme.test", "--org", "acme", "--role", "owner", "--password", "x"); r.code != 2 {
		t.Fatalf("password as a flag accepted: %d", r.code)
	}
	r := runVeilIn(t, env, "correct horse battery\n", "user", "create", "--email", "a@acme.test", "--org", "acme", "--role", "owner", "--password-stdin", "--json")
	if r.code != 0 {
		t.Fatalf("user create: %s", r.stderr)
	}
	u := decode[map[string]string](t, r.stdout)
	if u["org_id"] != org["org_id"] || u["role"] != "owner" {
		t.Fatalf("user create: %v", u)
	}
	if r := runVeilIn(t, env, "correct horse battery\n", "user", "create", "--email", "A@acme.test", "--org", "nope", "--role", "owner", "--password-stdin"); r.code != 1 || !strings.Contains(errLine(t, r), `no organisation "nope"`) {
		t.Fatalf("unknown org: %d %s", r.code, r.stderr)
	}
	tok := decode[map[string]any](t, mustVeil(t, env, "token", "create", "--org", org["org_id"], "--role", "admin", "--expires", "24h", "--json").stdout)
	if s, _ := tok["token"].(string); !strings.HasPrefix(s, "veil_pat_") || tok["expires_at"] == nil {
		t.Fatalf("token create: %v", tok)
	}
	if out := mustVeil(t, env, "token", "list", "--org", "acme").stdout; !strings.Contains(out, "admin") || strings.Contains(out, tok["token"].(string)) {
		t.Fatalf("token list:\n%s", out)
	}
	mustVeil(t, env, "user", "reset-mfa", "--email", "a@acme.test")
	mustVeil(t, env, "user", "unlock", "--email", "a@acme.test")
	if r := runVeilIn(t, env, "a@acme.test is me\n", "user", "set-password", "--email", "a@acme.test"); r.code != 1 {
		t.Fatalf("set-password accepted a password containing the e-mail: %d", r.code)
	}
	if r := runVeilIn(t, env, "another long passphrase\n", "user", "set-password", "--email", "a@acme.test"); r.code != 0 {
		t.Fatalf("set-password: %s", r.stderr)
	}
	orgs := decode[[]map[string]any](t, mustVeil(t, env, "org", "list", "--json").stdout)
	if len(orgs) != 1 || orgs[0]["name"] != "acme" {
		t.Fatalf("org list: %v", orgs)
	}

	v := decode[map[string]any](t, mustVeil(t, env, "audit", "verify", "--json").stdout)
	if v["broken"] != nil || v["entries"].(float64) < 5 {
		t.Fatalf("verify: %v", v)
	}
	lines := strings.Split(strings.TrimSpace(mustVeil(t, env, "audit", "export", "--json").stdout), "\n")
	var actions []string
	for _, l := range lines {
		e := decode[map[string]any](t, l)
		actions = append(actions, e["action"].(string))
		if strings.Contains(l, "veil_pat_") || strings.Contains(l, "correct horse") {
			t.Fatalf("audit export leaks a secret: %s", l)
		}
	}
	if got := strings.Join(actions, ","); got != "org.create,user.create,member.add,token.create,mfa.reset,password.change,audit.export" {
		t.Fatalf("exported actions: %s", got)
	}

	// Tamper with the database behind Veil's back.
	db, err := sql.Open("sqlite", filepath.Join(dir, "veil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE audit_log SET details = '{\"role\":\"viewer\"}' WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	r = runVeil(t, env, "audit", "verify")
	if r.code != 1 || !strings.Contains(r.stdout, "BROKEN at entry 3") || !strings.Contains(errLine(t, r), "entry 3") {
		t.Fatalf("verify after tampering: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestAccountsServe runs the real binary: a user made by the CLI logs in
// through the dashboard (CSRF, cookies), and a CLI token uses the API. The
// master key is then rotated, and the server still opens its accounts key.
func TestAccountsServe(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VEIL_DATA": dir}
	mustVeil(t, env, "org", "create", "--name", "acme")
	if r := runVeilIn(t, env, "correct horse battery\n", "user", "create", "--email", "a@acme.test", "--org", "acme", "--role", "owner", "--password-stdin"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	tok := decode[map[string]any](t, mustVeil(t, env, "token", "create", "--org", "acme", "--role", "viewer", "--json").stdout)["token"].(string)
	cmd, base, _, stderr := startServe(t, []string{"VEIL_DATA=" + dir})

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("login page CSP: %q", csp)
	}
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(body)
	if csrf == nil {
		t.Fatalf("no CSRF token:\n%s", body)
	}
	form := url.Values{"email": {"a@acme.test"}, "password": {"correct horse battery"}, "csrf_token": {string(csrf[1])}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/account" {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	resp, _ = c.Get(base + "/account")
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "acme") {
		t.Fatalf("account: %d", resp.StatusCode)
	}

	req, _ = http.NewRequest("GET", base+"/api/v1/orgs", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var orgs struct {
		Items []struct{ Name, Role string }
	}
	json.NewDecoder(resp.Body).Decode(&orgs)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(orgs.Items) != 1 || orgs.Items[0].Name != "acme" || orgs.Items[0].Role != "viewer" {
		t.Fatalf("api orgs: %d %+v", resp.StatusCode, orgs)
	}
	if code, _ := httpGet(t, base+"/api/v1/orgs"); code != 401 {
		t.Fatalf("api without token: %d", code)
	}
	if code, body := httpGet(t, base+"/api/v1/openapi.yaml"); code != 200 || !strings.HasPrefix(body, "openapi: 3") {
		t.Fatalf("openapi: %d", code)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	for _, secret := range []string{tok, "correct horse battery"} {
		if strings.Contains(stderr.String(), secret) {
			t.Fatal("server log contains a secret")
		}
	}

	mustVeil(t, env, "key", "rotate-master")
	cmd2, base2, _, stderr2 := startServe(t, []string{"VEIL_DATA=" + dir})
	if code, _ := httpGet(t, base2+"/login"); code != 200 {
		t.Fatalf("after rotation: %d\n%s", code, stderr2.String())
	}
	cmd2.Process.Signal(syscall.SIGTERM)
	cmd2.Wait()
}
