package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/blob/local"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/settings"
	"github.com/veil-privacy/veil/internal/testenv"
	"github.com/veil-privacy/veil/internal/web"
)

// requireChromium finds node, Chromium and playwright-core (sdk/node_modules),
// or calls testenv.Missing (a failure under CI=true).
func requireChromium(t *testing.T) (node, chromium string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", "node is not on PATH")
	}
	chromium = os.Getenv("VEIL_CHROMIUM")
	for _, c := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if chromium != "" {
			break
		}
		if _, err := os.Stat(c); err == nil {
			chromium = c
		}
	}
	if chromium == "" {
		testenv.Missing(t, "chromium", "no Chromium at /usr/bin/chromium (apt-get install chromium; make deps does)")
	}
	if _, err := os.Stat("../../sdk/node_modules/playwright-core"); err != nil {
		testenv.Missing(t, "sdk/node_modules", "run `npm ci` in sdk/ (make deps does)")
	}
	return node, chromium
}

type pageRun struct {
	Error    string
	Text     string // textContent of the page's "read" selector
	Status   int
	Headers  map[string]string
	Requests []string
	Console  []string
	Player   *struct {
		State, Status, Sandbox, Text string
		Events                       string
		LoadedAtReady                bool
		Probe                        *struct {
			Violations int
			Fetched    bool
		}
		PwnedTop, PwnedFrame *string
		FirstFrameMs         float64
		Scripts, Elements    int
		MaskedChars          int
		Blocked, BlockedGray int
	}
}

// runPlayer logs in as user and visits pages in Chromium.
func runPlayer(t *testing.T, d *dataEnv, user string, pages []map[string]any) map[string]pageRun {
	t.Helper()
	return runPlayerBefore(t, d, user, nil, pages)
}

// runPlayerBefore is runPlayer visiting the before pages logged out first.
func runPlayerBefore(t *testing.T, d *dataEnv, user string, before, pages []map[string]any) map[string]pageRun {
	t.Helper()
	node, chromium := requireChromium(t)
	shots := ""
	if v := os.Getenv("VEIL_SCREENSHOTS"); v != "" {
		// VEIL_SCREENSHOTS=1 writes docs/screenshots; an absolute path
		// writes there instead (to look before replacing).
		shots, _ = filepath.Abs("../../docs/screenshots")
		if filepath.IsAbs(v) {
			shots = v
		}
		os.MkdirAll(shots, 0o755)
	}
	arg, _ := json.Marshal(map[string]any{"chromium": chromium, "base": d.base, "email": d.users[user].Email,
		"password": password, "before": before, "pages": pages, "shots": shots})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "testdata/player.mjs", string(arg))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("node player.mjs: %v\n%s\n%s", err, b, stderr.String())
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("player.mjs output: %v\n%s", err, b)
	}
	if e, ok := raw["error"]; ok {
		t.Fatalf("player.mjs: %s", e)
	}
	out := map[string]pageRun{}
	for k, v := range raw {
		var r pageRun
		if err := json.Unmarshal(v, &r); err != nil {
			t.Fatal(err)
		}
		out[k] = r
	}
	return out
}

// TestPlayerNoEgress plays a hostile recording (external stylesheet, image,
// font, script, javascript: link, meta refresh, base href, inline handlers)
// whose URLs all point at a canary server: the canary must get no request
// and no recorded script may run.
func TestPlayerNoEgress(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	var mu sync.Mutex
	var hits []string
	canary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.Method+" "+r.URL.String())
		mu.Unlock()
		w.Write([]byte("window.parent.VEIL_PWNED='canary'"))
	}))
	defer canary.Close()
	hostile, err := os.ReadFile("testdata/hostile.json")
	if err != nil {
		t.Fatal(err)
	}
	rec := strings.ReplaceAll(string(hostile), "CANARY", strings.TrimPrefix(canary.URL, "http://"))
	d := newDataEnv(t, rec)
	base := "/orgs/" + d.orgA.ID + "/projects/" + d.project.ID + "/sessions"
	res := runPlayer(t, d, "viewer", []map[string]any{
		{"name": "list", "path": base},
		{"name": "player", "path": base + "/ses_042", "player": true, "probe": canary.URL},
	})
	mu.Lock()
	defer mu.Unlock()
	if len(hits) > 0 {
		t.Errorf("the canary server got %d requests: %v", len(hits), hits)
	}
	p := res["player"].Player
	if p == nil || p.State != "ready" {
		t.Fatalf("player did not get ready: %+v %v %s", p, res["player"].Console, res["player"].Error)
	}
	if p.PwnedTop != nil || p.PwnedFrame != nil {
		t.Errorf("a recorded script ran: top=%v frame=%v", p.PwnedTop, p.PwnedFrame)
	}
	if p.Probe == nil || p.Probe.Fetched || p.Probe.Violations < 4 {
		t.Errorf("CSP probe (requests planted in the replayed document): %+v", p.Probe)
	}
	if p.Sandbox != "allow-same-origin" {
		t.Errorf("replay iframe sandbox %q, want exactly allow-same-origin", p.Sandbox)
	}
	if p.Scripts != 0 || p.Elements < 10 {
		t.Errorf("rebuilt document: %d scripts, %d elements", p.Scripts, p.Elements)
	}
	if p.MaskedChars < 10 || p.Blocked == 0 || p.BlockedGray != p.Blocked {
		t.Errorf("masking not shown: %d asterisks, %d blocked (%d gray); text %q", p.MaskedChars, p.Blocked, p.BlockedGray, p.Text)
	}
	for name, r := range res {
		for _, u := range r.Requests {
			// The probes are attempted on purpose (and blocked by CSP:
			// the canary's count above is what matters).
			if strings.Contains(u, "/probe-") {
				continue
			}
			if !strings.HasPrefix(u, d.base+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") && u != "about:blank" {
				t.Errorf("%s: request outside the dashboard: %s", name, u)
			}
		}
		h := r.Headers
		if h["cache-control"] != "no-store" {
			t.Errorf("%s: Cache-Control %q", name, h["cache-control"])
		}
		if !strings.Contains(h["content-security-policy"], "frame-ancestors 'none'") || h["x-frame-options"] != "DENY" {
			t.Errorf("%s: framing allowed: CSP %q XFO %q", name, h["content-security-policy"], h["x-frame-options"])
		}
		if r.Status != 200 {
			t.Errorf("%s: status %d", name, r.Status)
		}
	}
	if csp := res["player"].Headers["content-security-policy"]; !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("player CSP %q", csp)
	}
	t.Logf("time to first frame: %.0f ms; console: %v", p.FirstFrameMs, res["player"].Console)
}

// TestDashboardScreenshots writes PNGs of the dashboard pages into
// docs/screenshots when VEIL_SCREENSHOTS is set, and always checks (in
// Chromium) that each page shows what it is for.
func TestDashboardScreenshots(t *testing.T) {
	demo, err := os.ReadFile("testdata/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	d := newDataEnvOpts(t, fakeReplays{events: string(demo), messages: testMessages()}, func(d *dataEnv, o *web.Options) {
		bl, err := local.New(filepath.Join(t.TempDir(), "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		o.Lifecycle = &lifecycle.Service{Store: d.db, Blobs: bl, Master: d.master, Audit: d.log}
	})
	base := "/orgs/" + d.orgA.ID + "/projects/" + d.project.ID
	b := d.login("viewer")
	b.get(base + "/sessions/ses_007/replay.ndjson") // a view for the trust page
	d.login("admin").enrolMFA()                     // for the MFA step
	for _, o := range []string{"https://shop.example.com", "https://staging.shop.example.com"} {
		if _, _, err := (&provision.Service{Store: d.db, Master: d.master}).CreateKey(context.Background(), d.project.ID, veil.KeyBrowser, []string{o}); err != nil {
			t.Fatal(err)
		}
	}
	// Project rules and SDK defaults, as an administrator would set them.
	actx := audit.WithActor(audit.NewContext(context.Background(), d.log), audit.Actor{Kind: audit.ActorSystem, ID: "test"})
	svc := settings.New(d.db)
	if _, err := svc.PutScrubRules(actx, d.project, scrub.Rules{Disabled: []string{scrub.DetIPv4, scrub.DetIPv6},
		CustomRules: []scrub.CustomRule{{Name: "employee-id", Pattern: `EMP-\d{6}`}, {Name: "ticket", Pattern: `(?i)\bticket[ #]?\d{5,}\b`}},
		SafeFields:  []string{"order_id"}, SensitiveFields: []string{"date_of_birth"}}); err != nil {
		t.Fatal(err)
	}
	sdkSettings := veil.DefaultSDKSettings()
	sdkSettings.MaskAllInputs, sdkSettings.Console, sdkSettings.SampleRate = true, veil.CaptureErrors, 0.5
	if _, err := svc.PutSDK(actx, d.project, sdkSettings); err != nil {
		t.Fatal(err)
	}
	// Each page, its screenshot and what it must show (in its main text).
	pages := []struct {
		page map[string]any
		want []string
	}{
		{map[string]any{"name": "sessions", "path": base + "/sessions", "shot": "sessions.png"}, []string{"sessions", "ses_059"}},
		{map[string]any{"name": "player", "path": base + "/sessions/ses_042", "player": true, "playMs": 1500}, nil}, // player.png: TestPlayerEndToEnd
		{map[string]any{"name": "events", "path": base + "/events", "shot": "events.png"}, []string{"Signed Up"}},
		{map[string]any{"name": "event", "path": base + "/events", "click": "table a[href*='/events/m-0-0']", "waitFor": "pre.json",
			"shot": "event.png"}, []string{`"messageId": "m-0-0"`, `"event": "Signed Up"`, "after server-side scrubbing"}},
		{map[string]any{"name": "settings", "path": base + "/settings", "shot": "settings.png", "fill": map[string]string{"#try-sample": trySample},
			"select": map[string]string{"#try-format": "json"}, "click": "#try-run", "waitFor": "#try-result"}, []string{"Server-side scrubbing", "[Filtered]"}},
		{map[string]any{"name": "keys", "path": base + "/settings", "shot": "keys.png", "top": true},
			[]string{"Write keys", "veil_wk_", "Rotate", "integrity=\"sha384-", "New key"}},
		{map[string]any{"name": "retention", "path": base + "/settings?preview=1&replays_days=0&events_days=1#retention-preview",
			"shot": "retention.png", "shotOf": "section.lifecycle"}, []string{"Data retention", "Preview, nothing saved yet", "Save this retention", "Erase / export a user"}},
		{map[string]any{"name": "trust", "path": base + "/trust", "shot": "trust.png"}, []string{"viewer@example.com"}},
		{map[string]any{"name": "org", "path": "/orgs/" + d.orgA.ID, "shot": "org.png"}, []string{"Projects", "shop", "Members", "viewer@example.com", "admin", "Require two-factor"}},
		{map[string]any{"name": "projects", "path": "/orgs/" + d.orgA.ID + "/projects", "shot": "projects.png"}, []string{"shop", "Sessions", "Trust", "Webhooks", "Destinations"}},
		{map[string]any{"name": "audit", "path": "/orgs/" + d.orgA.ID + "/audit", "shot": "audit.png"}, []string{"hash-chained", "user viewer@example.com", "replay.view", "project.scrub_rules_change", "project.sdk_settings_change"}},
		{map[string]any{"name": "account", "path": "/account", "shot": "account.png"}, []string{"Organisations", "Two-factor authentication", "Change password", "Browsers logged in"}},
		{map[string]any{"name": "account-mfa", "path": "/account/mfa", "shot": "account-mfa.png"}, []string{"Scan this code", "Turn on"}},
	}
	before := []map[string]any{
		{"name": "login", "path": "/login", "shot": "login.png", "read": "main"},
		{"name": "login-mfa", "path": "/login", "fill": map[string]string{"#email": "admin@example.com", "#password": password},
			"click": "form[action=\"/login\"] button", "waitFor": "#code", "read": "main", "shot": "login-mfa.png"},
	}
	wants := map[string][]string{"login": {"E-mail", "Password", "Log in", "single sign-on"}, "login-mfa": {"Code", "recovery codes"}}
	var list []map[string]any
	for _, p := range pages {
		if p.page["read"] == nil && p.want != nil {
			p.page["read"] = "main"
		}
		list = append(list, p.page)
		wants[p.page["name"].(string)] = p.want
	}
	res := runPlayerBefore(t, d, "owner", before, list)
	for name, want := range wants {
		r, ok := res[name]
		if !ok || r.Status != 200 || r.Error != "" {
			t.Errorf("%s: %d %s", name, r.Status, r.Error)
			continue
		}
		for _, w := range want {
			if !strings.Contains(r.Text, w) {
				t.Errorf("%s does not show %q:\n%s", name, w, r.Text)
			}
		}
		if len(r.Console) > 0 {
			t.Errorf("%s: console %v", name, r.Console)
		}
	}
}

// slowReplays sends a recording's first two events (meta, full snapshot),
// then holds the stream until release is closed: the player must start
// on what it has.
type slowReplays struct {
	fakeReplays
	head, tail []string
	release    chan struct{}
}

func (s slowReplays) Replay(ctx context.Context, projectID, sessionID string, w io.Writer) (int, error) {
	io.WriteString(w, "["+strings.Join(s.head, ",")+",")
	select {
	case <-s.release:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	_, err := io.WriteString(w, strings.Join(s.tail, ",")+"]")
	return 2, err
}

// bigRecording is a page of n elements and m mouse moves.
func bigRecording(n, m int) (head, tail []string) {
	var kids []string
	for i := 0; i < n; i++ {
		kids = append(kids, fmt.Sprintf(`{"type":2,"id":%d,"tagName":"div","attributes":{"class":"row"},"childNodes":[{"type":3,"id":%d,"textContent":"**** ******* %d"}]}`, 10+2*i, 11+2*i, i))
	}
	head = []string{`{"type":4,"data":{"href":"https://x.example/","width":1000,"height":700},"timestamp":1700000000000}`,
		`{"type":2,"data":{"node":{"type":0,"id":1,"childNodes":[{"type":2,"id":2,"tagName":"html","attributes":{},"childNodes":[{"type":2,"id":3,"tagName":"body","attributes":{},"childNodes":[` +
			strings.Join(kids, ",") + `]}]}]},"initialOffset":{"left":0,"top":0}},"timestamp":1700000000010}`}
	for i := 0; i < m; i++ {
		tail = append(tail, fmt.Sprintf(`{"type":3,"data":{"source":1,"positions":[{"x":%d,"y":%d,"id":3,"timeOffset":0}]},"timestamp":%d}`, i%900, i%600, 1700000000100+int64(i)*50))
	}
	return head, tail
}

// TestPlayerProgressive: the player shows the first frame of a 5,000-element
// page while the rest of the session is still on its way, then takes the
// remaining events into the same Replayer.
func TestPlayerProgressive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	head, tail := bigRecording(5000, 3000)
	release := make(chan struct{})
	var once sync.Once
	rel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { once.Do(func() { close(release) }) }))
	defer rel.Close()
	defer once.Do(func() { close(release) })
	d := newDataEnvWith(t, slowReplays{head: head, tail: tail, release: release})
	base := "/orgs/" + d.orgA.ID + "/projects/" + d.project.ID + "/sessions"
	res := runPlayer(t, d, "viewer", []map[string]any{{"name": "player", "path": base + "/ses_001", "player": true, "release": rel.URL, "playMs": 500}})
	p := res["player"].Player
	if p == nil || p.State != "ready" || p.LoadedAtReady {
		t.Fatalf("player: %+v (ready only after the whole stream?) %v %s", p, res["player"].Console, res["player"].Error)
	}
	if want := fmt.Sprintf("%d events", len(head)+len(tail)); p.Events != want {
		t.Errorf("after the stream: %q, want %q", p.Events, want)
	}
	if p.Elements < 5000 {
		t.Errorf("rebuilt %d elements", p.Elements)
	}
	t.Logf("time to first frame, 5,000 elements: %.0f ms", p.FirstFrameMs)
}

// trySample is pasted into the settings page's "try it" box.
const trySample = `{"order_id":"A-1009","email":"jane.doe@example.com","note":"badge EMP-204519, ticket 48213","date_of_birth":"1984-02-29","ip":"10.2.3.4"}`

// TestSettingsTryIt: the settings page's "try it" box works in a real
// browser under the dashboard's CSP: the pasted sample is scrubbed with
// the rules as edited (not yet saved) and the output and counts shown.
func TestSettingsTryIt(t *testing.T) {
	d := newDataEnv(t, testRecording)
	base := "/orgs/" + d.orgA.ID + "/projects/" + d.project.ID
	res := runPlayer(t, d, "member", []map[string]any{{"name": "settings", "path": base + "/settings",
		"fill":   map[string]string{"#try-sample": trySample, "#rn-0": "employee-id", "#rp-0": `EMP-\d{6}`},
		"select": map[string]string{"#try-format": "json"}, "click": "#try-run", "waitFor": "#try-result", "read": "#try-result"}})
	r := res["settings"]
	want := `{"order_id":"A-1009","email":"[Filtered]","note":"badge [Filtered], ticket 48213","date_of_birth":"1984-02-29","ip":"[Filtered]"}`
	if r.Status != 200 || r.Error != "" || !strings.Contains(r.Text, want) || !strings.Contains(r.Text, "custom:employee-id: 1") || len(r.Console) > 0 {
		t.Fatalf("try it: %d %s %q console %v", r.Status, r.Error, r.Text, r.Console)
	}
}
