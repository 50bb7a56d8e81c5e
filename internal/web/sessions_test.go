package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/server"
	"github.com/veil-privacy/veil/internal/settings"
	"github.com/veil-privacy/veil/internal/web"
	"github.com/veil-privacy/veil/internal/webhook"
)

// fakeReplays serves one canned recording for every session.
type fakeReplays struct {
	events   string
	messages []string // JSON lines for Events
}

func (f fakeReplays) Replay(ctx context.Context, projectID, sessionID string, w io.Writer) (int, error) {
	_, err := io.WriteString(w, f.events)
	return 1, err
}

func (f fakeReplays) Events(ctx context.Context, projectID string, since, until time.Time, w io.Writer) (int, error) {
	for _, m := range f.messages {
		if _, err := io.WriteString(w, m+"\n"); err != nil {
			return 0, err
		}
	}
	return len(f.messages), nil
}

// dataEnv is env with a data-bearing project in org A: a real project key
// (so user search works), sessions and a recording.
type dataEnv struct {
	*env
	master  *keyring.Master
	project *veil.Project
}

// testRecording is a tiny recording with a script in it.
const testRecording = `[{"type":4,"data":{"href":"http://x/","width":10,"height":10},"timestamp":1},{"type":2,"data":{"node":{"type":0,"id":1,"childNodes":[{"type":2,"id":2,"tagName":"script","attributes":{"src":"http://evil/x.js"},"childNodes":[]}]}},"timestamp":2}]`

// newDataEnv serves the dashboard through the server's full handler chain
// (security headers included), with events as every session's recording.
func newDataEnv(t *testing.T, events string) *dataEnv {
	return newDataEnvWith(t, fakeReplays{events: events, messages: testMessages()})
}

// newDataEnvWith is newDataEnv with rp as the recordings and events.
func newDataEnvWith(t *testing.T, rp web.Replays) *dataEnv {
	return newDataEnvOpts(t, rp, nil)
}

// newDataEnvOpts is newDataEnvWith with more options set by opt (which
// may be nil).
func newDataEnvOpts(t *testing.T, rp web.Replays, opt func(d *dataEnv, o *web.Options)) *dataEnv {
	e := newEnv(t, false)
	d := &dataEnv{env: e, master: keyring.NewMaster()}
	ctx := context.Background()
	p := &veil.Project{ID: veil.NewID("prj"), OrgID: e.orgA.ID, Name: "shop"}
	dek := keyring.NewDataKey()
	var err error
	if p.WrappedKey, err = d.master.Wrap(dek, provision.ProjectKeyAAD(p.OrgID, p.ID)); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	d.project = p
	t0 := time.Now().Add(-time.Hour).UTC()
	var ss []*veil.Session
	for i := 0; i < 60; i++ {
		ss = append(ss, &veil.Session{ProjectID: p.ID, ID: fmt.Sprintf("ses_%03d", i), WrappedKey: []byte("k"),
			FirstSeen: t0.Add(time.Duration(i) * time.Second), LastSeen: t0.Add(time.Duration(i)*time.Second + time.Duration(i)*time.Minute),
			URLPath: []string{"/", "/checkout"}[i%2], UserAgent: "Chrome", Events: 10, Errors: int64(i % 7 / 6),
			UserIndex: dek.BlindIndex("user_id", fmt.Sprintf("user-%d", i%10))})
	}
	if err := e.db.CreateSessions(ctx, ss); err != nil {
		t.Fatal(err)
	}
	// Every fifth session recorded a "Signed Up" custom event, as the
	// packer stores it (a blind index in session_tags).
	pack := &veil.PackCommit{NodeID: "test"}
	for i := 0; i < 60; i += 5 {
		pack.Segments = append(pack.Segments, veil.PackedSegment{
			Segment: veil.Segment{ProjectID: p.ID, SessionID: ss[i].ID, Seq: 1, BlobKey: "p/x", Length: 1, FirstTS: ss[i].FirstSeen, LastTS: ss[i].LastSeen},
			Meta:    veil.SegmentMeta{Pages: 3, Tags: []string{dek.BlindIndex(keyring.IndexCustomEvent, "Signed Up")}}})
	}
	if _, err := e.db.CommitPack(ctx, pack); err != nil {
		t.Fatal(err)
	}
	o := web.Options{
		Store:    e.db,
		Sessions: &auth.Sessions{Store: e.db, Now: e.clk.Now},
		Login:    &auth.Login{Store: e.db, Params: fastParams, Now: e.clk.Now},
		MFA:      e.mfa,
		Audit:    e.log,
		Key:      e.key,
		Origin:   e.base,
		Replays:  rp,
		Master:   d.master,
		Keys:     &provision.Service{Store: e.db, Master: d.master, Now: time.Now},
		Webhooks: &webhook.Service{Store: e.db, Key: e.key, AllowPrivate: true},
		Storage:  web.StorageInfo{Database: "SQLite, test", Blobs: "local directory, test"},
		Settings: settings.New(e.db),
	}
	if opt != nil {
		opt(d, &o)
	}
	e.h = web.New(o)
	srv := server.New(server.Options{})
	for _, rt := range e.h.Routes() {
		srv.Handle(rt.Pattern, e.h)
	}
	e.srv.Config.Handler = srv.Handler()
	return d
}

// testMessages are 3 days of stored messages: on day i (0 = today),
// i+1 "Signed Up" by user-i and 2 pages.
func testMessages() []string {
	var out []string
	today := time.Now().UTC().Truncate(24 * time.Hour).Add(time.Hour)
	for i := 0; i < 3; i++ {
		t := today.AddDate(0, 0, -i)
		for j := 0; j <= i; j++ {
			out = append(out, fmt.Sprintf(`{"type":"track","event":"Signed Up","userId":"user-%d","messageId":"m-%d-%d","timestamp":%q,"properties":{"plan":"pro"}}`, i, i, j, t.Add(time.Duration(j)*time.Minute).Format(time.RFC3339)))
		}
		for j := 0; j < 2; j++ {
			out = append(out, fmt.Sprintf(`{"type":"page","name":"Home","anonymousId":"anon-%d","messageId":"p-%d-%d","timestamp":%q}`, i, i, j, t.Add(time.Duration(j)*time.Second).Format(time.RFC3339)))
		}
	}
	return out
}

func (d *dataEnv) sessions(b *browser, query string) (int, []string) {
	d.t.Helper()
	resp, body := b.get("/orgs/" + d.orgA.ID + "/projects/" + d.project.ID + "/sessions" + query)
	var ids []string
	for _, part := range strings.Split(body, `/sessions/ses_`)[1:] {
		ids = append(ids, "ses_"+part[:3])
	}
	return resp.StatusCode, ids
}

func TestSessionList(t *testing.T) {
	d := newDataEnv(t, testRecording)
	b := d.login("viewer")
	status, ids := d.sessions(b, "")
	if status != 200 || len(ids) != 50 || ids[0] != "ses_059" {
		t.Fatalf("first page: %d %v", status, ids)
	}
	_, body := b.get("/orgs/" + d.orgA.ID + "/projects/" + d.project.ID + "/sessions")
	if !strings.Contains(body, `rel="next"`) {
		t.Fatal("no next page link")
	}
	for _, tc := range []struct {
		name, query string
		want        int // rows on the first page
		first       string
		count       int // matches in all
	}{
		{"user", "?user=user-3", 6, "ses_053", 6},
		{"path", "?path=/checkout", 30, "ses_059", 30},
		{"errors", "?errors=1", 8, "ses_055", 8},
		{"duration sort", "?sort=duration&min=50m", 10, "ses_059", 10},
		{"max duration", "?max=120", 3, "ses_002", 3},
		{"custom event", "?event=Signed+Up", 12, "ses_055", 12},
		{"custom event and path", "?event=Signed+Up&path=/checkout", 6, "ses_055", 6},
		{"unknown custom event", "?event=signed+up", 0, "", 0},
		// The day the fixture's sessions start (an hour ago: yesterday just after midnight UTC).
		{"from their first day", "?from=" + time.Now().Add(-time.Hour).UTC().Format("2006-01-02"), 50, "ses_059", 60},
		{"until long ago", "?to=2000-01-01", 0, "", 0},
	} {
		status, ids := d.sessions(b, tc.query)
		if status != 200 || len(ids) != tc.want || tc.want > 0 && ids[0] != tc.first {
			t.Errorf("%s: %d %d sessions %v, want %d first %s", tc.name, status, len(ids), ids, tc.want, tc.first)
		}
		_, body := b.get("/orgs/" + d.orgA.ID + "/projects/" + d.project.ID + "/sessions" + tc.query)
		if want := fmt.Sprintf(">%d session", tc.count); !strings.Contains(body, want) {
			t.Errorf("%s: the page does not say %q", tc.name, want)
		}
	}
	if !strings.Contains(body, ">60 sessions match.") {
		t.Error("the unfiltered list does not count 60 sessions")
	}
	if status, _ := d.sessions(b, "?min=soon"); status != 400 {
		t.Errorf("bad duration: %d", status)
	}
	// Another organisation's project is not found, even through one's own org.
	ob := d.login("ownerB")
	resp, _ := ob.get("/orgs/" + d.orgB.ID + "/projects/" + d.project.ID + "/sessions")
	if resp.StatusCode != 404 {
		t.Errorf("org B owner on org A's project: %d", resp.StatusCode)
	}
	resp, _ = ob.get("/orgs/" + d.orgB.ID + "/projects/" + d.project.ID + "/sessions/ses_001/replay.ndjson")
	if resp.StatusCode != 404 {
		t.Errorf("org B owner on org A's replay: %d", resp.StatusCode)
	}
}

func TestSessionPlayer(t *testing.T) {
	d := newDataEnv(t, testRecording)
	b := d.login("viewer")
	base := "/orgs/" + d.orgA.ID + "/projects/" + d.project.ID + "/sessions/ses_007"
	resp, body := b.get(base)
	if resp.StatusCode != 200 || !strings.Contains(body, `data-src="`+base+`/replay.ndjson"`) || !strings.Contains(body, `/static/player.js`) {
		t.Fatalf("session page: %d\n%s", resp.StatusCode, body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "img-src data: blob:", "frame-ancestors 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("player CSP %q lacks %q", csp, want)
		}
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	before, _ := d.db.ListAudit(context.Background(), veil.AuditFilter{OrgID: d.orgA.ID, Limit: 1000})
	resp, body = b.get(base + "/replay.ndjson")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("replay.ndjson: %d %s", resp.StatusCode, body)
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	for _, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("replay.ndjson line %q: %v", l, err)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("replay.ndjson: %d events\n%s", len(lines), body)
	}
	if strings.Contains(body, "script") || strings.Contains(body, "evil") {
		t.Errorf("replay not sanitized: %s", body)
	}
	after, _ := d.db.ListAudit(context.Background(), veil.AuditFilter{OrgID: d.orgA.ID, Limit: 1000})
	if len(after) != len(before)+1 {
		t.Fatalf("audit entries %d -> %d", len(before), len(after))
	}
	last := after[len(after)-1]
	if last.Action != audit.ActionReplayView || last.ObjectID != "ses_007" || last.ActorID != d.users["viewer"].ID {
		t.Errorf("audit entry %+v", last)
	}
	if resp, _ := b.get(base[:len(base)-3] + "999"); resp.StatusCode != 404 {
		t.Errorf("missing session: %d", resp.StatusCode)
	}
	if resp, _ := d.browser().get(base + "/replay.ndjson"); resp.StatusCode != 303 {
		t.Errorf("anonymous replay.ndjson: %d", resp.StatusCode)
	}
}

func TestPlayerBundleServed(t *testing.T) {
	e := newEnv(t, false)
	for _, p := range []string{"/static/player.js", "/static/player.css", "/static/dashboard.css"} {
		resp, err := http.Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// TestOriginNull: under Referrer-Policy: no-referrer browsers send
// "Origin: null" on same-origin form posts; Sec-Fetch-Site decides then.
func TestOriginNull(t *testing.T) {
	d := newDataEnv(t, testRecording)
	b := d.login("viewer")
	if resp, _ := b.post("/logout/everywhere", nil, "Origin", "null", "Sec-Fetch-Site", ""); resp.StatusCode != 403 {
		t.Errorf("Origin null without Sec-Fetch-Site: %d, want 403", resp.StatusCode)
	}
	if resp, _ := b.post("/logout", nil, "Origin", "null"); resp.StatusCode != 303 {
		t.Errorf("same-origin post with Origin null: %d, want 303", resp.StatusCode)
	}
}
