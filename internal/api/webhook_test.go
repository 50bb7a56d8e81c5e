package api_test

import (
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/api"
)

func TestWebhooks_Flow(t *testing.T) {
	e := newEnv(t)
	a := e.fix.Orgs["A"]
	base := "/api/v1/orgs/" + a.Org.ID + "/projects/" + a.Project.ID + "/webhooks"
	admin := e.fix.Tokens["admin"]

	status, body := e.do("POST", base, admin, `{"url":"https://hooks.example/in","description":"crm","event_types":["key.revoked"]}`)
	if status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	nw := decodeJSON[api.NewWebhook](t, body)
	if !strings.HasPrefix(nw.Secret, "whsec_") || nw.Endpoint.ID == "" {
		t.Fatalf("create: %s", body)
	}
	status, body = e.do("GET", base+"/"+nw.Endpoint.ID, admin, "")
	if status != 200 || strings.Contains(body, "whsec_") || strings.Contains(body, "secret\"") {
		t.Fatalf("get leaks the secret or fails: %d %s", status, body)
	}
	for _, bad := range []string{
		`{"url":"http://127.0.0.1/x"}`, `{"url":"http://169.254.169.254/"}`, `{"url":"ftp://x.example/"}`,
		`{"url":"https://u:p@x.example/"}`, `{"event_types":["nope"]}`,
	} {
		if status, body := e.do("PATCH", base+"/"+nw.Endpoint.ID, admin, bad); status != 400 {
			t.Errorf("PATCH %s: %d %s", bad, status, body)
		}
	}
	status, body = e.do("POST", base+"/"+nw.Endpoint.ID+"/test", admin, "")
	if status != 202 {
		t.Fatalf("test: %d %s", status, body)
	}
	m := decodeJSON[veil.WebhookMessage](t, body)
	status, body = e.do("GET", base+"/"+nw.Endpoint.ID+"/messages/"+m.ID, e.fix.Tokens["member"], "")
	if status != 200 || !strings.Contains(body, `"attempt_log":[]`) || !strings.Contains(body, `"status":"pending"`) {
		t.Fatalf("message: %d %s", status, body)
	}
	// A message under another endpoint of the same project is not found.
	status, _ = e.do("GET", base+"/"+a.Webhook.ID+"/messages/"+m.ID, admin, "")
	if status != 404 {
		t.Fatalf("message under the wrong endpoint: %d", status)
	}
	status, body = e.do("POST", base+"/"+nw.Endpoint.ID+"/rotate", admin, `{"overlap_seconds":3600}`)
	if r := decodeJSON[api.NewWebhook](t, body); status != 200 || r.Secret == nw.Secret || r.Endpoint.PrevSecretUntil == nil {
		t.Fatalf("rotate: %d %s", status, body)
	}
}
