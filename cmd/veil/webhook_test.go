package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/testenv"
	"github.com/veil-privacy/veil/internal/webhook"
)

func TestWebhookCLI(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VEIL_DATA": dir}
	np := decode[newProject](t, mustVeil(t, env, "project", "create", "--name", "shop", "--org", "acme", "--json").stdout)
	p := []string{"--project", np.ProjectID}

	// Private targets are refused unless the operator allows them.
	r := runVeil(t, env, append([]string{"webhook", "add", "--url", "http://127.0.0.1:9/x"}, p...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "refused") {
		t.Fatalf("private target: exit %d %s", r.code, r.stderr)
	}
	added := decode[map[string]string](t, mustVeil(t, env, append([]string{"webhook", "add", "--url", "https://hooks.example/in",
		"--events", "key.revoked,webhook.test", "--json"}, p...)...).stdout)
	if !strings.HasPrefix(added["secret"], "whsec_") {
		t.Fatalf("add: %v", added)
	}
	ep := []string{"--project", np.ProjectID, "--endpoint", added["endpoint_id"]}
	list := mustVeil(t, env, append([]string{"webhook", "list", "--json"}, p...)...).stdout
	if !strings.Contains(list, added["endpoint_id"]) || strings.Contains(list, added["secret"]) {
		t.Fatalf("list: %s", list)
	}
	mustVeil(t, env, append([]string{"webhook", "test"}, ep...)...)
	msgs := decode[[]*veil.WebhookMessage](t, mustVeil(t, env, append([]string{"webhook", "log", "--json"}, ep...)...).stdout)
	if len(msgs) != 1 || msgs[0].EventType != "webhook.test" || msgs[0].Status != veil.WebhookPending {
		t.Fatalf("log: %+v", msgs)
	}
	rot := decode[map[string]string](t, mustVeil(t, env, append([]string{"webhook", "rotate", "--json"}, ep...)...).stdout)
	if rot["secret"] == added["secret"] || !strings.HasPrefix(rot["secret"], "whsec_") {
		t.Fatalf("rotate: %v", rot)
	}
	mustVeil(t, env, append([]string{"webhook", "delete"}, ep...)...)
	if r := runVeil(t, env, append([]string{"webhook", "log"}, ep...)...); r.code != 1 {
		t.Fatalf("log after delete: exit %d", r.code)
	}
}

// TestWebhookServe runs the real server: revoking a key through the API
// delivers a key.revoked message that the official Standard Webhooks
// library verifies.
func TestWebhookServe(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VEIL_DATA": dir, "VEIL_WEBHOOK_ALLOW_PRIVATE": "true"}
	np := decode[newProject](t, mustVeil(t, env, "project", "create", "--name", "shop", "--org", "acme", "--json").stdout)
	got := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer rc.Close()
	added := decode[map[string]string](t, mustVeil(t, env, "webhook", "add", "--project", np.ProjectID, "--url", rc.URL,
		"--events", "key.revoked", "--json").stdout)
	tok := decode[map[string]any](t, mustVeil(t, env, "token", "create", "--org", "acme", "--role", "member", "--json").stdout)["token"].(string)
	keys := decode[[]*veil.WriteKey](t, mustVeil(t, env, "key", "list", "--project", np.ProjectID, "--json").stdout)
	_, base, _, stderr := startServe(t, []string{"VEIL_DATA=" + dir, "VEIL_WEBHOOK_ALLOW_PRIVATE=true"})

	req, _ := http.NewRequest("POST", base+"/api/v1/orgs/"+np.OrgID+"/projects/"+np.ProjectID+"/keys/"+keys[0].ID+"/revoke", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	wh, err := standardwebhooks.NewWebhook(added["secret"])
	if err != nil {
		t.Fatal(err)
	}
	next := func() (typ, keyID string) {
		t.Helper()
		select {
		case r := <-got:
			body := <-bodies
			if err := wh.Verify(body, r.Header); err != nil {
				t.Fatalf("official library rejects the delivery: %v", err)
			}
			var p struct {
				Type string
				Data map[string]any
			}
			json.Unmarshal(body, &p)
			id, _ := p.Data["key_id"].(string)
			return p.Type, id
		case <-time.After(20 * time.Second):
			t.Fatalf("no delivery\n%s", stderr.String())
		}
		return "", ""
	}
	if typ, id := next(); typ != "key.revoked" || id != keys[0].ID {
		t.Fatalf("delivery %s for %s", typ, id)
	}
	// Rotation schedules the old key's revocation: key.revoked too.
	req, _ = http.NewRequest("POST", base+"/api/v1/orgs/"+np.OrgID+"/projects/"+np.ProjectID+"/keys/"+keys[1].ID+"/rotate?overlap=1h", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("rotate: %d", resp.StatusCode)
	}
	if typ, id := next(); typ != "key.revoked" || id != keys[1].ID {
		t.Fatalf("delivery %s for %s", typ, id)
	}
}

// TestWebhookSessionLifecycle runs the real server: replay segments
// posted to /v1/replay give one session.started (when the packer stores
// the first), then, after the idle timeout, one session.ended; both verify
// with the official Standard Webhooks library.
func TestWebhookSessionLifecycle(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testWebhookSessionLifecycle(t, map[string]string{"VEIL_DATA": t.TempDir()}) })
	t.Run("postgres", func(t *testing.T) {
		keyFile := filepath.Join(t.TempDir(), "master.key")
		mustVeil(t, nil, "key", "generate-master", "--out", keyFile)
		key, _ := os.ReadFile(keyFile)
		testWebhookSessionLifecycle(t, map[string]string{"VEIL_DATA": t.TempDir(), "VEIL_DATABASE": testenv.Postgres(t),
			"VEIL_MASTER_KEY": strings.TrimSpace(string(key))})
	})
}

func testWebhookSessionLifecycle(t *testing.T, env map[string]string) {
	np := decode[newProject](t, mustVeil(t, env, "project", "create", "--name", "shop", "--org", "acme", "--json").stdout)
	type delivery struct {
		h    http.Header
		body []byte
	}
	got := make(chan delivery, 8)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Clone(), b}
	}))
	defer rc.Close()
	env["VEIL_WEBHOOK_ALLOW_PRIVATE"] = "true"
	added := decode[map[string]string](t, mustVeil(t, env, "webhook", "add", "--project", np.ProjectID, "--url", rc.URL,
		"--events", "session.started,session.ended", "--json").stdout)
	env["VEIL_SESSION_IDLE_TIMEOUT"] = "2s"
	var procEnv []string
	for k, v := range env {
		procEnv = append(procEnv, k+"="+v)
	}
	_, base, _, stderr := startServe(t, procEnv)

	for seq := range 2 {
		events := fmt.Sprintf(`[{"type":4,"data":{"href":"https://shop.example.com/checkout?id=1","width":800,"height":600},"timestamp":%d},`+
			`{"type":3,"data":{"source":1,"positions":[]},"timestamp":%d}]`, 1700000000000+seq*5000, 1700000001000+seq*5000)
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/replay?session=ses_e2e_0001&seq=%d", base, seq),
			strings.NewReader(`{"events":`+events+`,"meta":{"userId":"jane-1"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")
		req.SetBasicAuth(np.ServerKey, "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("replay upload %d: %d", seq, resp.StatusCode)
		}
	}
	wh, err := standardwebhooks.NewWebhook(added["secret"])
	if err != nil {
		t.Fatal(err)
	}
	next := func() (string, map[string]any) {
		t.Helper()
		select {
		case d := <-got:
			if err := wh.Verify(d.body, d.h); err != nil {
				t.Fatalf("official library rejects the delivery: %v", err)
			}
			if strings.Contains(string(d.body), "jane-1") || strings.Contains(string(d.body), "id=1") {
				t.Fatalf("payload carries personal data or the query string: %s", d.body)
			}
			var p struct {
				Type string
				Data map[string]any
			}
			if err := json.Unmarshal(d.body, &p); err != nil {
				t.Fatal(err)
			}
			return p.Type, p.Data
		case <-time.After(60 * time.Second):
			t.Fatalf("no delivery\n%s", stderr.String())
		}
		return "", nil
	}
	typ, d := next()
	if typ != "session.started" || d["session_id"] != "ses_e2e_0001" || d["project_id"] != np.ProjectID ||
		d["url_path"] != "/checkout" || d["user_agent_family"] != "Firefox" {
		t.Fatalf("first delivery %s %v", typ, d)
	}
	typ, d = next()
	if typ != "session.ended" || d["session_id"] != "ses_e2e_0001" || d["segments"] != 2.0 || d["events"] != 4.0 || d["duration_ms"] != 6000.0 {
		t.Fatalf("second delivery %s %v", typ, d)
	}
	select {
	case extra := <-got:
		t.Fatalf("unexpected delivery %s", extra.body)
	case <-time.After(3 * time.Second): // a few more job rounds: nothing more is sent
	}
}

// TestExportCompletedCLI: `veil export events` queues export.completed
// with the kind, counts, size and the CLI as actor.
func TestExportCompletedCLI(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VEIL_DATA": dir}
	np := decode[newProject](t, mustVeil(t, env, "project", "create", "--name", "shop", "--org", "acme", "--json").stdout)
	added := decode[map[string]string](t, mustVeil(t, env, "webhook", "add", "--project", np.ProjectID, "--url", "https://hooks.example/in",
		"--events", "export.completed", "--json").stdout)
	out := filepath.Join(dir, "events.jsonl")
	mustVeil(t, env, "export", "events", "--project", np.ProjectID, "--out", out)
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	msgs := decode[[]*veil.WebhookMessage](t, mustVeil(t, env, "webhook", "log", "--json", "--project", np.ProjectID, "--endpoint", added["endpoint_id"]).stdout)
	if len(msgs) != 1 || msgs[0].EventType != "export.completed" {
		t.Fatalf("log: %+v", msgs)
	}
	var p struct {
		Data webhook.ExportData `json:"data"`
	}
	if err := json.Unmarshal(msgs[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if d := p.Data; d.Kind != "events" || d.Format != "ndjson" || d.ProjectID != np.ProjectID || d.Bytes != st.Size() ||
		d.ActorKind != "system" || d.ActorID != "cli" || !strings.HasPrefix(d.ExportID, "exp_") {
		t.Fatalf("export.completed data %+v (file %d bytes)", d, st.Size())
	}
}
