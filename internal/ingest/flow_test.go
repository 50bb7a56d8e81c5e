package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/events"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/store"
)

const track = `{"type":"track","event":"Order Completed","userId":"u-123","messageId":"m-1",
 "properties":{"total":42.5,"note":"call me at jane.doe@example.com","password":"hunter2","sessionId":"s3cr3t-cookie"},
 "context":{"library":{"name":"analytics-node","version":"2.1.0"},"veil":{"sessionId":"0f8c2d7e-5b1a-4c3e-9d2f-7a6b5c4d3e2f"}},"timestamp":"2026-11-23T10:00:00Z","sentAt":"2026-11-23T10:00:00Z"}`

func TestTrackStoredScrubbedOnce(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(req{path: "/v1/track", body: track, key: e.project.ServerKey})
	if r.status != 200 || strings.TrimSpace(r.body) != `{"success":true}` {
		t.Fatalf("track: %d %s", r.status, r.body)
	}
	// The same messageId again is acknowledged but not stored twice.
	if r := e.do(req{path: "/v1/track", body: track, key: e.project.ServerKey}); r.status != 200 {
		t.Fatalf("duplicate track: %d %s", r.status, r.body)
	}
	e.pack()
	got := e.storedEvents()
	if len(got) != 1 {
		t.Fatalf("stored %d events, want 1", len(got))
	}
	m := got[0]
	props := m["properties"].(map[string]any)
	if m["messageId"] != "m-1" || m["event"] != "Order Completed" || m["type"] != "track" || props["total"] != 42.5 {
		t.Fatalf("stored message lost fields: %v", m)
	}
	// The SDK's replay session id links events to recordings and is kept;
	// a "sessionId" anywhere else is treated as a session secret.
	if got := lookup(m, "context.veil.sessionId"); got != "0f8c2d7e-5b1a-4c3e-9d2f-7a6b5c4d3e2f" {
		t.Fatalf("context.veil.sessionId = %v", got)
	}
	if _, ok := m["receivedAt"].(string); !ok {
		t.Fatal("receivedAt not set")
	}
	s := fmt.Sprint(m)
	for _, leak := range []string{"jane.doe@example.com", "hunter2", "s3cr3t-cookie", e.project.ServerKey} {
		if strings.Contains(s, leak) {
			t.Errorf("stored message contains %q", leak)
		}
	}
}

func TestBatchGzipAndBodyKey(t *testing.T) {
	e := newEnv(t, nil)
	var msgs []string
	for i := 0; i < 50; i++ {
		msgs = append(msgs, fmt.Sprintf(`{"type":"track","event":"E%d","anonymousId":"a-%d","messageId":"b-%d"}`, i, i, i))
	}
	body := fmt.Sprintf(`{"writeKey":%q,"batch":[%s]}`, e.project.ServerKey, strings.Join(msgs, ","))
	if r := e.do(req{path: "/v1/batch", body: body, gzip: true}); r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	if r := e.do(req{path: "/v1/import", body: body}); r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	e.pack()
	got := e.storedEvents()
	if len(got) != 50 {
		t.Fatalf("stored %d events, want 50", len(got))
	}
	for _, m := range got {
		if _, ok := m["writeKey"]; ok {
			t.Fatal("writeKey stored")
		}
	}
}

func TestReplaySegments(t *testing.T) {
	e := newEnv(t, nil)
	base := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).UnixMilli()
	seg := func(from int64) string {
		return fmt.Sprintf(`{"events":[
			{"type":4,"timestamp":%d,"data":{"href":"https://shop.example.com/cart?coupon=X&email=jane.doe@example.com","width":800,"height":600}},
			{"type":3,"timestamp":%d,"data":{"source":2,"type":2,"id":5,"x":1,"y":2}},
			{"type":6,"timestamp":%d,"data":{"plugin":"rrweb/console@1","payload":{"level":"error","payload":["\"card 4111 1111 1111 1111\""],"trace":[]}}},
			{"type":5,"timestamp":%d,"data":{"payload":{"tag":"not this","n":[1,{"x":"y"}]},"tag":"Checkout Started"}}
		],"meta":{"userId":"user-42"}}`, base+from, base+from+100, base+from+200, base+from+300)
	}
	sid := "sess-0123456789"
	for _, seq := range []int{0, 1, 1} { // seq 1 twice: idempotent
		r := e.do(req{path: fmt.Sprintf("/v1/replay?session=%s&seq=%d", sid, seq), body: seg(int64(seq) * 1000), gzip: true,
			key: e.project.BrowserKey, origin: "https://shop.example.com"})
		if r.status != 200 {
			t.Fatalf("replay seq %d: %d %s", seq, r.status, r.body)
		}
		if r.header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" {
			t.Fatalf("no CORS header for allowed origin")
		}
	}
	e.pack()
	s, err := e.db.FindSession(context.Background(), e.project.ProjectID, sid)
	if err != nil {
		t.Fatal(err)
	}
	if s.Segments != 2 || s.Events != 8 || s.Errors != 2 || s.Pages != 2 || s.URLPath != "/cart" || s.UserIndex == "" || strings.Contains(s.UserIndex, "user-42") {
		t.Fatalf("session metadata: %+v", s)
	}
	// The custom event is found through its blind index, and only it.
	p, err := e.db.FindProjectByID(context.Background(), e.project.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	dek, err := e.master.Unwrap(p.WrappedKey, provision.ProjectKeyAAD(p.OrgID, p.ID))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"Checkout Started": 1, "not this": 0, "checkout started": 0} {
		pg, err := e.db.FindSessionPage(context.Background(), store.SessionQuery{ProjectID: p.ID, TagIndex: dek.BlindIndex(keyring.IndexCustomEvent, name)})
		if err != nil || len(pg.Sessions) != want {
			t.Errorf("sessions with custom event %q: %v %v, want %d", name, pg, err, want)
		}
	}
	var out strings.Builder
	n, err := ingestReader(e).Replay(context.Background(), e.project.ProjectID, sid, &out)
	if err != nil || n != 2 {
		t.Fatalf("replay export: %d %v", n, err)
	}
	txt := out.String()
	if strings.Count(txt, `"type":4`) != 2 || strings.Contains(txt, "4111 1111") || strings.Contains(txt, "jane.doe") {
		t.Fatalf("replay export wrong or unscrubbed: %.400s", txt)
	}
}

func TestDuplicateInsideOneBatch(t *testing.T) {
	e := newEnv(t, nil)
	m := `{"type":"track","event":"E","userId":"u","messageId":"same"}`
	if r := e.do(req{path: "/v1/batch", body: `{"batch":[` + m + `,` + m + `]}`, key: e.project.ServerKey}); r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	e.pack()
	if got := e.storedEvents(); len(got) != 1 {
		t.Fatalf("stored %d, want 1", len(got))
	}
}

// TestDedupSurvivesRestart: a handler started on the same storage refills
// the window from stored batches and the log, so a client's retry after a
// restart is still recognised.
func TestDedupSurvivesRestart(t *testing.T) {
	e := newEnv(t, nil)
	body := `{"type":"track","event":"E","userId":"u","messageId":"retry-me"}`
	if r := e.do(req{path: "/v1/track", body: body, key: e.project.ServerKey}); r.status != 200 {
		t.Fatal(r.body)
	}
	e.pack() // stored in a batch
	if r := e.do(req{path: "/v1/track", body: strings.Replace(body, "retry-me", "in-log", 1), key: e.project.ServerKey}); r.status != 200 {
		t.Fatal(r.body)
	} // still only in the log
	fresh := events.NewDedup(events.DefaultDedupWindow, time.Now)
	h := ingest.New(ingest.Options{Store: e.db, Master: e.master, Log: e.log, Blobs: e.blobs, Scrubber: scrub.MustNew(scrub.Rules{}), Dedup: fresh})
	if err := h.RestoreDedup(context.Background(), e.log); err != nil {
		t.Fatal(err)
	}
	if !fresh.Has(e.project.ProjectID, "retry-me") || !fresh.Has(e.project.ProjectID, "in-log") {
		t.Fatal("restored window lacks stored or logged ids")
	}
}
