package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/settings"
	"github.com/veil-privacy/veil/internal/store"
)

// clock is a settable time source for the handler.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// settingsEnv is an ingest path whose scrubbing rules come from the
// project's stored settings.
func settingsEnv(t *testing.T) (*env, *settings.Service, *clock, context.Context) {
	clk := &clock{t: time.Now()}
	var svc *settings.Service
	e := newEnv(t, func(o *ingest.Options) {
		svc = settings.New(o.Store.(*store.DB))
		o.Settings, o.Now = svc, clk.Now
	})
	ctx := audit.NewContext(context.Background(), &audit.Log{Store: e.db})
	ctx = audit.WithActor(ctx, audit.Actor{Kind: audit.ActorSystem, ID: "test"})
	return e, svc, clk, ctx
}

func (e *env) track(t *testing.T, id, note string) {
	t.Helper()
	body := fmt.Sprintf(`{"type":"track","event":"Note","userId":"u-1","messageId":%q,"properties":{"note":%q},"context":{"veil":{"sessionId":"sess-abcdef123456"}}}`, id, note)
	if r := e.do(req{path: "/v1/track", body: body, key: e.project.ServerKey}); r.status != 200 {
		t.Fatalf("track %s: %d %s", id, r.status, r.body)
	}
}

// storedNotes returns properties.note of the stored events by messageId.
func (e *env) storedNotes(t *testing.T) map[string]string {
	e.pack()
	out := map[string]string{}
	for _, m := range e.storedEvents() {
		props, _ := m["properties"].(map[string]any)
		out[m["messageId"].(string)], _ = props["note"].(string)
		if c, _ := m["context"].(map[string]any); c != nil {
			if v, _ := c["veil"].(map[string]any); v == nil || v["sessionId"] != "sess-abcdef123456" {
				t.Errorf("event %s: context.veil.sessionId not kept: %v", m["messageId"], c)
			}
		}
	}
	return out
}

// TestProjectRules: a rule saved through the settings service (as the
// dashboard, the API and the CLI do) changes what ingest stores from the
// very next request; the SDK's session id stays safe whatever the rules.
func TestProjectRules(t *testing.T) {
	e, svc, _, ctx := settingsEnv(t)
	p, err := e.db.FindProjectByID(ctx, e.project.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	const note = "badge EMP-123456 for bob@example.com at 10.1.2.3"
	e.track(t, "before", note)
	if _, err := svc.PutScrubRules(ctx, p, scrub.Rules{
		CustomRules: []scrub.CustomRule{{Name: "employee-id", Pattern: `EMP-\d{6}`}},
		Disabled:    []string{scrub.DetIPv4},
		SafeFields:  []string{"order_id"},
		Replacement: "[x]",
	}); err != nil {
		t.Fatal(err)
	}
	e.track(t, "after", note)

	sid := "sess-rules-0001"
	seg := `[{"type":4,"timestamp":1700000000000,"data":{"href":"https://shop.example.com/u/EMP-654321","width":1,"height":1}},
		{"type":2,"timestamp":1700000000001,"data":{"node":{"type":0,"id":1,"childNodes":[{"type":3,"id":2,"textContent":"EMP-111111 here"}]},"initialOffset":{"top":0,"left":0}}}]`
	if r := e.do(req{path: "/v1/replay?session=" + sid + "&seq=0", body: seg, key: e.project.BrowserKey, origin: "https://shop.example.com"}); r.status != 200 {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}

	got := e.storedNotes(t)
	want := map[string]string{
		"before": "badge EMP-123456 for [Filtered] at [Filtered]", // built-in rules only
		"after":  "badge [x] for [x] at 10.1.2.3",                 // custom rule, ipv4 off, own marker
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("stored note of %q = %q, want %q", id, got[id], w)
		}
	}
	var out strings.Builder
	if _, err := ingestReader(e).Replay(ctx, e.project.ProjectID, sid, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "EMP-") || !strings.Contains(out.String(), "********** here") {
		t.Errorf("stored replay not scrubbed with the project rule: %.400s", out.String())
	}
	s, err := e.db.FindSession(ctx, e.project.ProjectID, sid)
	if err != nil || s.URLPath != "/u/**********" {
		t.Errorf("session URL path = %q (%v), want the custom rule applied", s.URLPath, err)
	}
}

// TestProjectRulesOtherNode: a change written by another process (another
// node, the CLI) is picked up once the cache entry is older than the TTL,
// with one version lookup; until then the compiled scrubber is reused.
func TestProjectRulesOtherNode(t *testing.T) {
	e, _, clk, ctx := settingsEnv(t)
	e.track(t, "warm", "EMP-123456") // compiles and caches version 0
	rules, _ := json.Marshal(scrub.Rules{CustomRules: []scrub.CustomRule{{Name: "emp", Pattern: `EMP-\d+`}}})
	if _, err := e.db.PutProjectScrubRules(ctx, e.project.ProjectID, string(rules)); err != nil {
		t.Fatal(err)
	}
	e.track(t, "cached", "EMP-123456")
	clk.Add(ingest.DefaultRulesTTL + time.Second)
	e.track(t, "fresh", "EMP-123456")
	got := e.storedNotes(t)
	if got["warm"] != "EMP-123456" || got["cached"] != "EMP-123456" || got["fresh"] != "[Filtered]" {
		t.Errorf("notes = %v; want the other node's rule applied only after the TTL", got)
	}
}

// TestSDKConfig: GET /v1/sdk/config serves the project's masking defaults
// to an allowed origin with CORS and a short cache lifetime, and refuses
// like the upload endpoints otherwise.
func TestSDKConfig(t *testing.T) {
	e, svc, _, ctx := settingsEnv(t)
	get := func(key, origin string) (int, http.Header, string) {
		t.Helper()
		rq, _ := http.NewRequest("GET", e.srv.URL+"/v1/sdk/config?key="+key, nil)
		if origin != "" {
			rq.Header.Set("Origin", origin)
		}
		res, err := http.DefaultClient.Do(rq)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(b)
	}
	code, h, body := get(e.project.BrowserKey, "https://shop.example.com")
	var cfg ingest.SDKConfig
	if code != 200 || json.Unmarshal([]byte(body), &cfg) != nil || cfg.SDKSettings != veil.DefaultSDKSettings() || cfg.Version != 0 {
		t.Fatalf("defaults: %d %s", code, body)
	}
	if h.Get("Access-Control-Allow-Origin") != "https://shop.example.com" || h.Get("Cache-Control") != "public, max-age=60" || !strings.Contains(h.Get("Vary"), "Origin") {
		t.Errorf("headers %v", h)
	}
	p, _ := e.db.FindProjectByID(ctx, e.project.ProjectID)
	want := veil.DefaultSDKSettings()
	want.MaskAllText, want.Network, want.SampleRate = true, veil.CaptureOff, 0.25
	if _, err := svc.PutSDK(ctx, p, want); err != nil {
		t.Fatal(err)
	}
	code, _, body = get(e.project.BrowserKey, "https://shop.example.com")
	cfg = ingest.SDKConfig{}
	if code != 200 || json.Unmarshal([]byte(body), &cfg) != nil || cfg.SDKSettings != want || cfg.Version != 1 {
		t.Fatalf("after change: %d %s", code, body)
	}
	for _, tt := range []struct {
		name, key, origin string
		code              int
	}{
		{"NoKey", "", "https://shop.example.com", 401},
		{"BadKey", "veil_wk_" + strings.Repeat("a", 40), "https://shop.example.com", 401},
		{"OtherOrigin", e.project.BrowserKey, "https://evil.example", 403},
		{"BrowserKeyNoOrigin", e.project.BrowserKey, "", 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, h, body := get(tt.key, tt.origin)
			if code != tt.code || h.Get("Access-Control-Allow-Origin") != "" || h.Get("Cache-Control") != "no-store" || strings.Contains(body, "mask_all_text") {
				t.Errorf("%d %v %s; want %d, no CORS, no-store", code, h, body, tt.code)
			}
		})
	}
}

// TestReplayScrubberLeavesOutEventsSafeField: the built-in safe field
// (context.veil.sessionId, Segment messages only) keeps its value in
// events but not in replay segments, where nothing at that path is Veil's;
// the project's own safe fields apply to both.
func TestReplayScrubberLeavesOutEventsSafeField(t *testing.T) {
	e, svc, _, ctx := settingsEnv(t)
	p, err := e.db.FindProjectByID(ctx, e.project.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutScrubRules(ctx, p, scrub.Rules{SafeFields: []string{"order_ref"}}); err != nil {
		t.Fatal(err)
	}
	sid := "sess-rules-0002"
	seg := `[{"type":4,"timestamp":1700000000000,"data":{"href":"https://shop.example.com/","width":1,"height":1}},
		{"type":5,"timestamp":1700000000001,"data":{"tag":"checkout","payload":{"context":{"veil":{"sessionId":"bob@example.com"}},"order_ref":"carol@example.com"}}}]`
	if r := e.do(req{path: "/v1/replay?session=" + sid + "&seq=0", body: seg, key: e.project.ServerKey}); r.status != 200 {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	e.track(t, "kept", "x") // context.veil.sessionId kept in events (storedNotes checks)
	if got := e.storedNotes(t); got["kept"] != "x" {
		t.Fatalf("stored notes = %v", got)
	}
	var out strings.Builder
	if _, err := ingestReader(e).Replay(ctx, e.project.ProjectID, sid, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "bob@example.com") || !strings.Contains(out.String(), "carol@example.com") {
		t.Errorf("replay: want the e-mail under context.veil.sessionId scrubbed and the project's safe field kept: %s", out.String())
	}
}
