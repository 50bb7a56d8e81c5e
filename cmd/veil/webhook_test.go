package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/veil-privacy/veil"
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
