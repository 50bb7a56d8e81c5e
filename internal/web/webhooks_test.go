package web_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/webhook"
)

// secretRE finds a signing secret (in a page unescaped first: html/template
// writes "+" as &#43;).
var secretRE = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)

// TestWebhookPages walks the webhook pages as an admin (create with the
// secret shown once, edit, test, the delivery log with response code,
// latency and excerpt, resend, rotate, delete) and checks what a member
// may see and do.
func TestWebhookPages(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	projects, _ := e.db.ListProjects(ctx, e.orgA.ID)
	p := projects[0]
	base := "/orgs/" + e.orgA.ID + "/projects/" + p.ID
	admin := e.login("admin")

	if _, body := admin.get(base + "/settings"); !strings.Contains(body, `href="`+base+`/webhooks"`) {
		t.Fatal("the settings page does not link to the webhooks page")
	}
	if resp, body := admin.get(base + "/webhooks"); resp.StatusCode != 200 || !strings.Contains(body, "No endpoints yet") {
		t.Fatalf("empty list: %d\n%s", resp.StatusCode, body)
	}
	// A private target is refused by default, with the reason, and the
	// form keeps what was typed.
	resp, body := admin.post(base+"/webhooks", url.Values{"url": {"http://10.1.2.3/in"}, "description": {"internal"}, "enabled": {"1"}})
	if resp.StatusCode != 400 || !strings.Contains(body, "private address") || !strings.Contains(body, `value="internal"`) {
		t.Fatalf("private target: %d\n%s", resp.StatusCode, body)
	}
	// Created: the secret is on this page only.
	resp, body = admin.post(base+"/webhooks", url.Values{"url": {"https://hooks.example/in"}, "description": {"CRM"},
		"types": {webhook.SessionStarted, webhook.SessionEnded}, "enabled": {"1"}})
	secret := secretRE.FindString(html.UnescapeString(body))
	if resp.StatusCode != 201 || secret == "" {
		t.Fatalf("create: %d\n%s", resp.StatusCode, body)
	}
	es, _ := e.db.ListWebhookEndpoints(ctx, p.ID)
	if len(es) != 1 || es[0].Description != "CRM" || len(es[0].EventTypes) != 2 || !es[0].Enabled {
		t.Fatalf("stored endpoint %+v", es)
	}
	ep := base + "/webhooks/" + es[0].ID
	for _, path := range []string{base + "/webhooks", ep} {
		if _, body := admin.get(path); strings.Contains(body, secret) || strings.Contains(body, "whsec_") {
			t.Fatalf("%s shows the secret again", path)
		}
	}
	if _, body := admin.get(base + "/webhooks"); !strings.Contains(body, "session.started, session.ended") || !strings.Contains(body, "enabled") {
		t.Fatalf("list:\n%s", body)
	}

	// Edit: description, types (none = all), enabled.
	if resp, _ := admin.post(ep, url.Values{"description": {"CRM sync"}}); resp.StatusCode != 303 {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	if _, body := admin.get(ep + "?done=updated"); !strings.Contains(body, "CRM sync") || !strings.Contains(body, "all events") ||
		!strings.Contains(body, "state-disabled") || !strings.Contains(body, "Endpoint saved.") {
		t.Fatalf("after edit:\n%s", body)
	}

	// A second endpoint on a local receiver (allowed for this test) that
	// fails once, then succeeds: the log shows both attempts.
	var calls atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if calls.Add(1) == 1 {
			w.WriteHeader(500)
			io.WriteString(w, "boom <b>"+strings.Repeat("x", 500))
			return
		}
		io.WriteString(w, "ok")
	}))
	defer rc.Close()
	local := &webhook.Service{Store: e.db, Key: e.key, AllowPrivate: true}
	lep, _, err := local.Create(ctx, p.ID, webhook.EndpointInput{URL: rc.URL})
	if err != nil {
		t.Fatal(err)
	}
	lp := base + "/webhooks/" + lep.ID
	if resp, _ := admin.post(lp+"/test", nil); resp.StatusCode != 303 || resp.Header.Get("Location") != lp+"?done=test" {
		t.Fatalf("test: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	w := &webhook.Worker{Queue: e.db, Key: e.key, AllowPrivate: true, Now: e.clk.Now, Jitter: func(time.Duration) time.Duration { return 0 }}
	for range 2 {
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ms, _ := e.db.ListWebhookMessages(ctx, p.ID, lep.ID, 10)
	if len(ms) != 1 || ms[0].Status != veil.WebhookDelivered || ms[0].Attempts != 2 {
		t.Fatalf("messages %+v", ms)
	}
	_, body = admin.get(lp)
	for _, want := range []string{"webhook.test", "state-delivered", "<td>200", " ms</td>", `<code class="excerpt">ok</code>`, "Resend"} {
		if !strings.Contains(body, want) {
			t.Errorf("delivery log lacks %q", want)
		}
	}
	resp, body = admin.get(lp + "/messages/" + ms[0].ID)
	if resp.StatusCode != 200 || !strings.Contains(body, "HTTP 500") || !strings.Contains(body, "boom &lt;b&gt;") || strings.Contains(body, strings.Repeat("x", 200)) {
		t.Fatalf("message page (excerpt escaped and at most 128 bytes): %d\n%s", resp.StatusCode, body)
	}
	// Resend: pending again, same id.
	if resp, _ := admin.post(lp+"/messages/"+ms[0].ID+"/resend", nil); resp.StatusCode != 303 {
		t.Fatalf("resend: %d", resp.StatusCode)
	}
	if m, _ := e.db.FindWebhookMessage(ctx, p.ID, ms[0].ID); m.Status != veil.WebhookPending {
		t.Fatalf("after resend: %+v", m)
	}
	// Rotate with overlap: a new secret, shown once, and the old one's end.
	resp, body = admin.post(lp+"/rotate", url.Values{"overlap": {"1h"}})
	if resp.StatusCode != 200 || secretRE.FindString(html.UnescapeString(body)) == "" || !strings.Contains(body, "also signs until") {
		t.Fatalf("rotate: %d\n%s", resp.StatusCode, body)
	}

	// A member reads but cannot change anything; no forms are offered.
	member := e.login("member")
	resp, body = member.get(lp)
	if resp.StatusCode != 200 || strings.Contains(body, "Rotate secret") || strings.Contains(body, "Resend") {
		t.Fatalf("member view: %d", resp.StatusCode)
	}
	if resp, _ := member.post(lp+"/test", nil); resp.StatusCode != 403 {
		t.Fatalf("member test: %d, want 403", resp.StatusCode)
	}
	// Without the CSRF token nothing changes.
	if resp, _ := admin.post(lp+"/delete", url.Values{"csrf_token": {"forged"}}); resp.StatusCode != 403 {
		t.Fatalf("forged delete: %d, want 403", resp.StatusCode)
	}
	// Another project's id under this organisation is not found.
	projectsB, _ := e.db.ListProjects(ctx, e.orgB.ID)
	if resp, _ := admin.get("/orgs/" + e.orgA.ID + "/projects/" + projectsB[0].ID + "/webhooks"); resp.StatusCode != 404 {
		t.Fatalf("org B's project under org A: %d, want 404", resp.StatusCode)
	}
	// Delete: back to the list, endpoint and log gone.
	if resp, _ := admin.post(lp+"/delete", nil); resp.StatusCode != 303 || resp.Header.Get("Location") != base+"/webhooks" {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := admin.get(lp); resp.StatusCode != 404 {
		t.Fatalf("deleted endpoint: %d, want 404", resp.StatusCode)
	}
	// Every change is in the audit log.
	entries, _ := e.db.ListAudit(ctx, veil.AuditFilter{OrgID: e.orgA.ID})
	seen := map[string]bool{}
	for _, a := range entries {
		seen[a.Action] = true
	}
	for _, a := range []string{"webhook.create", "webhook.update", "webhook.test", "webhook.resend", "webhook.rotate_secret", "webhook.delete"} {
		if !seen[a] {
			t.Errorf("no %s in the audit log", a)
		}
	}
}

// TestWebhookScreenshots writes docs/screenshots/webhooks.png (an endpoint
// with its delivery log), webhooks-list.png and webhook-message.png (one
// message's attempts) when VEIL_SCREENSHOTS is set; the pages are loaded
// in Chromium either way.
func TestWebhookScreenshots(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	projects, _ := e.db.ListProjects(ctx, e.orgA.ID)
	p := projects[0]
	var n atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch n.Add(1) {
		case 3:
			w.WriteHeader(503)
			io.WriteString(w, `{"error":"maintenance, retry later"}`)
		default:
			io.WriteString(w, `{"ok":true}`)
		}
	}))
	defer rc.Close()
	svc := &webhook.Service{Store: e.db, Key: e.key, AllowPrivate: true}
	ep, _, err := svc.Create(ctx, p.ID, webhook.EndpointInput{URL: rc.URL + "/veil", Description: "CRM: session and export notifications",
		EventTypes: []string{webhook.SessionStarted, webhook.SessionEnded, webhook.ExportCompleted, webhook.Test}})
	if err != nil {
		t.Fatal(err)
	}
	emit := func(typ string, data any) {
		if _, err := e.db.EmitWebhookEvent(ctx, veil.WebhookEvent{ProjectID: p.ID, Type: typ, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	w := &webhook.Worker{Queue: e.db, Key: e.key, AllowPrivate: true, Now: e.clk.Now, Jitter: func(d time.Duration) time.Duration { return d }}
	deliver := func() {
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Minute)
	}
	started := e.clk.Now().Add(-8 * time.Minute)
	emit(webhook.SessionStarted, webhook.SessionStartedData{ProjectID: p.ID, SessionID: "Qz7cM2", StartedAt: started, URLPath: "/checkout", UserAgentFamily: "Firefox"})
	deliver()
	emit(webhook.SessionEnded, webhook.SessionEndedData{ProjectID: p.ID, SessionID: "Qz7cM2", StartedAt: started, EndedAt: started.Add(7 * time.Minute), DurationMS: 420000, Segments: 84, Events: 5210})
	deliver()
	emit(webhook.ExportCompleted, webhook.ExportData{ProjectID: p.ID, ExportID: "exp_1", Kind: "user", Format: "zip", ActorKind: "user", ActorID: "usr_1"})
	deliver() // 503: retried in 5 s
	if _, err := svc.SendTest(ctx, p.ID, ep.ID); err != nil {
		t.Fatal(err)
	}
	// Shown with a public-looking URL (the deliveries went to a local receiver).
	if _, err := svc.Update(ctx, p.ID, ep.ID, webhook.EndpointInput{URL: "https://crm.example.com/hooks/veil"}); err != nil {
		t.Fatal(err)
	}
	off := false
	gone, _, err := svc.Create(ctx, p.ID, webhook.EndpointInput{URL: "https://old-warehouse.example.net/ingest", EventTypes: []string{webhook.RecordingDeleted, webhook.UserErased}, Enabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	gone.Enabled, gone.DisabledReason = false, "The endpoint answered 410 Gone."
	if err := e.db.UpdateWebhookEndpoint(ctx, gone); err != nil {
		t.Fatal(err)
	}
	base := "/orgs/" + e.orgA.ID + "/projects/" + p.ID + "/webhooks"
	res := runPlayer(t, &dataEnv{env: e}, "admin", []map[string]any{
		{"name": "webhooks-list", "path": base, "shot": "webhooks-list.png", "read": "main"},
		{"name": "webhook", "path": base + "/" + ep.ID, "shot": "webhooks.png", "read": "main"},
		{"name": "webhook-message", "path": base + "/" + ep.ID, "click": "tr:has-text('export.completed') a[href*='/messages/']",
			"waitFor": "table.log", "shot": "webhook-message.png", "read": "main"},
	})
	for name, want := range map[string][]string{
		"webhooks-list":   {"https://crm.example.com/hooks/veil", "410 Gone"},
		"webhook":         {"Send test event", "Rotate secret", "export.completed", "503"},
		"webhook-message": {"export.completed", "Attempts", "503", "maintenance, retry later"},
	} {
		r := res[name]
		if r.Status != 200 || r.Error != "" {
			t.Errorf("%s: %d %s", name, r.Status, r.Error)
		}
		for _, w := range want {
			if !strings.Contains(r.Text, w) {
				t.Errorf("%s does not show %q:\n%s", name, w, r.Text)
			}
		}
	}
}
