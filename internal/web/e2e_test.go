package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/testenv"
)

// veilServer is the real binary serving --demo on 127.0.0.1.
type veilServer struct {
	bin, dir, base string
	cmd            *exec.Cmd
	stderr         *bytes.Buffer
	demo           struct {
		OrgID     string `json:"org_id"`
		ProjectID string `json:"project_id"`
		Email     string `json:"email"`
		Password  string `json:"password"`
		ServerKey string `json:"server_key"`
	}
}

// startVeil builds cmd/veil and starts `veil serve --demo` in a fresh data
// directory; it is stopped (SIGTERM) when the test ends.
func startVeil(t *testing.T, env ...string) *veilServer {
	t.Helper()
	v := &veilServer{bin: os.Getenv("VEIL_TEST_BIN"), dir: t.TempDir(), stderr: &bytes.Buffer{}}
	if v.bin == "" { // VEIL_TEST_BIN: a binary built beforehand
		v.bin = filepath.Join(t.TempDir(), "veil")
		if out, err := exec.Command("go", "build", "-o", v.bin, "../../cmd/veil").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	port := testenv.FreePort(t)
	v.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	v.cmd = exec.Command(v.bin, "serve", "--demo", "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	v.cmd.Env = append(append(os.Environ(), "VEIL_DATA="+v.dir), env...)
	v.cmd.Stderr = &syncWriter{w: v.stderr}
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		v.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { v.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			v.cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(v.base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("veil serve did not come up:\n%s", v.stderr)
		}
	}
	b, err := os.ReadFile(filepath.Join(v.dir, "demo-credentials.json"))
	if err != nil || json.Unmarshal(b, &v.demo) != nil {
		t.Fatalf("demo credentials: %v %s", err, b)
	}
	return v
}

// browserKey creates a browser write key of the demo project for origin.
func (v *veilServer) browserKey(t *testing.T, origin string) string {
	t.Helper()
	out, err := exec.Command(v.bin, "key", "create", "--project", v.demo.ProjectID, "--kind", "browser", "--origin", origin, "--json", "--data", v.dir).Output()
	var k struct{ Key string }
	if err != nil || json.Unmarshal(out, &k) != nil || k.Key == "" {
		t.Fatalf("key create: %v %s", err, out)
	}
	return k.Key
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// testSite serves testdata/site with the SDK pointed at host with *key.
func testSite(host string, key *string) *httptest.Server {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	img.Set(1, 1, color.RGBA{200, 40, 40, 255})
	var pix bytes.Buffer
	png.Encode(&pix, img)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/pixel.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(pix.Bytes())
			return
		case "/api/account":
			w.WriteHeader(http.StatusCreated)
			return
		case "/api/pay":
			http.Error(w, `{"error":"card declined"}`, http.StatusPaymentRequired)
			return
		}
		name := filepath.Base(r.URL.Path)
		b, err := os.ReadFile(filepath.Join("testdata", "site", name))
		if err != nil || name == "/" {
			http.NotFound(w, r)
			return
		}
		switch filepath.Ext(name) {
		case ".html":
			b = []byte(strings.NewReplacer("{{HOST}}", host, "{{KEY}}", *key).Replace(string(b)))
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		case ".js":
			w.Header().Set("Content-Type", "text/javascript")
		case ".css":
			w.Header().Set("Content-Type", "text/css")
		}
		w.Write(b)
	}))
}

type e2eState struct {
	State, Speed, Clock, Status     string
	Loaded, Playing                 bool
	Seeked, Position, Max           float64
	Marks                           map[string]int
	Console, Network, Moments, Meta string
	NowConsole                      string
	FirstFrame                      float64
}

type e2eFrame struct {
	Sandbox, Text, HTML string
	Inputs              []struct{ ID, Type, Value string }
	Blocked             int
}

type e2eRun struct {
	Error, SessionID, SessionURL, Copied, Dom string
	Replay                                    string
	SameSession, Listed                       bool
	Requests, Console, Bodies, Failed         []string
	Loaded, Playing, Faster, Ended, Linked    e2eState
	Paused, Resumed                           e2eState
	Shot                                      e2eState
	Arrow                                     struct{ From, To float64 }
	FrameEnd, FrameShot                       *e2eFrame
}

// TestPlayerEndToEnd: a user signs up on a site recorded by the real SDK
// (sdk/dist, served by the real binary) and goes on to a failing payment;
// a viewer logs in, finds the session in the list and plays it. Typed text
// shows as asterisks and the typed values appear nowhere in the dashboard
// (DOM or responses); the click, page, error and custom-event moments are
// on the timeline; the console and network panes show the failure; speed,
// keyboard, copy-link and ?t= links work.
func TestPlayerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts Chromium")
	}
	node, chromium := requireChromium(t)
	v := startVeil(t)
	var key string
	siteSrv := testSite(v.base, &key)
	defer siteSrv.Close()
	key = v.browserKey(t, siteSrv.URL)

	typed := []string{"Jane Canary", "jane.e2e@example.com", "ZQXE2Epass-word9"}
	shots := ""
	if s := os.Getenv("VEIL_SCREENSHOTS"); s != "" {
		shots, _ = filepath.Abs("../../docs/screenshots")
		if filepath.IsAbs(s) {
			shots = s
		}
		os.MkdirAll(shots, 0o755)
	}
	arg, _ := json.Marshal(map[string]any{"chromium": chromium, "site": siteSrv.URL, "veil": v.base, "email": v.demo.Email, "password": v.demo.Password,
		"sessions": "/orgs/" + v.demo.OrgID + "/projects/" + v.demo.ProjectID + "/sessions", "typed": typed, "shots": shots})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "testdata/e2e.mjs", string(arg))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("node e2e.mjs: %v\n%s\n%s", err, b, stderr.String())
	}
	var run e2eRun
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatalf("e2e.mjs output: %v\n%.3000s", err, b)
	}
	if f := os.Getenv("VEIL_E2E_DUMP"); f != "" {
		os.WriteFile(f, b, 0o644)
	}
	if run.Error != "" {
		t.Fatalf("e2e.mjs: %s\nserver log:\n%s", run.Error, v.stderr)
	}
	checkEndToEnd(t, v, &run, typed)
}

func checkEndToEnd(t *testing.T, v *veilServer, run *e2eRun, typed []string) {
	t.Helper()
	if run.SessionID == "" || !run.SameSession || !run.Listed {
		t.Fatalf("session %q (same across pages: %v) listed: %v", run.SessionID, run.SameSession, run.Listed)
	}
	l := run.Loaded
	if l.State != "ready" || !l.Loaded {
		t.Fatalf("player: %+v", l)
	}
	// Moments: 4 clicks on the sign-up page (3 fields, the button), the
	// cart link and "Pay now"; 2 pages; the console error; "Signed Up".
	for kind, min := range map[string]int{"k-click": 6, "k-nav": 2, "k-error": 1, "k-custom": 1} {
		if l.Marks[kind] < min {
			t.Errorf("timeline: %d %s markers, want at least %d (all: %v)", l.Marks[kind], kind, min, l.Marks)
		}
	}
	// The SDK records "Signed Up" in the replay and the server adds the
	// stored track message: one marker.
	if l.Marks["k-custom"] != 1 || !strings.Contains(l.Moments, "Signed Up") || !strings.Contains(l.Moments, "/cart.html") {
		t.Errorf("moments pane:\n%s", l.Moments)
	}
	if !strings.Contains(l.Console, "Payment failed (status 402)") {
		t.Errorf("console pane:\n%s", l.Console)
	}
	if !regexp.MustCompile(`POST\s+402\s+/api/pay`).MatchString(l.Network) || !strings.Contains(l.Network, "/api/account") {
		t.Errorf("network pane:\n%s", l.Network)
	}
	if !strings.Contains(l.Meta, "/shop.html") || !strings.Contains(l.Meta, "/cart.html") || !strings.Contains(l.Meta, "cust-1042") {
		t.Errorf("session panel:\n%s", l.Meta)
	}
	if !run.Playing.Playing || run.Playing.Position <= 0 {
		t.Errorf("Space did not play: %+v", run.Playing)
	}
	if run.Faster.Speed != "4" {
		t.Errorf("speed: %q", run.Faster.Speed)
	}
	if run.Paused.Playing || !run.Resumed.Playing {
		t.Errorf("Space: still playing after pausing (%v), or not playing after Space again (%v)", run.Paused.Playing, run.Resumed.Playing)
	}
	if want := min(5000, l.Max); run.Arrow.From != 0 || run.Arrow.To != want {
		t.Errorf("Home, ArrowRight: %v → %v, want 0 → %v", run.Arrow.From, run.Arrow.To, want)
	}
	if !strings.HasPrefix(run.Copied, run.SessionURL+"?t=") || !strings.HasSuffix(run.Copied, "s") {
		t.Errorf("copied link %q for %s", run.Copied, run.SessionURL)
	}
	if run.Ended.Playing || run.Ended.Position < run.Ended.Max-1000 {
		t.Errorf("did not play to the end: %+v", run.Ended)
	}
	if li := run.Linked; li.Seeked != 3000 || li.Position != 3000 || li.Playing || !strings.HasPrefix(li.Clock, "0:03 / ") {
		t.Errorf("?t=3s: %+v", li)
	}
	if !strings.Contains(run.Ended.NowConsole, "Payment failed") {
		t.Errorf("console entry at the end not highlighted: %q", run.Ended.NowConsole)
	}
	// Masking: what was typed shows as asterisks and is nowhere else.
	for _, f := range []*e2eFrame{run.FrameEnd, run.FrameShot} {
		if f == nil {
			t.Fatal("no replayed document")
		}
		if f.Sandbox != "allow-same-origin" {
			t.Errorf("replay frame: sandbox %q", f.Sandbox)
		}
	}
	if run.FrameShot.Blocked == 0 { // the basket image on the sign-up page
		t.Errorf("sign-up page replayed without a blocked element")
	}
	masked := 0
	for _, in := range run.FrameShot.Inputs {
		if in.Value != "" && strings.Trim(in.Value, "*") == "" {
			masked++
		}
	}
	if masked < 3 {
		t.Errorf("typed inputs not shown as asterisks: %+v", run.FrameShot.Inputs)
	}
	hay := map[string]string{"page DOM": run.Dom, "replayed DOM": run.FrameEnd.HTML + run.FrameShot.HTML + fmt.Sprint(run.FrameEnd.Inputs, run.FrameShot.Inputs),
		"responses": strings.Join(run.Bodies, "\n"), "replay stream": run.Replay}
	for where, s := range hay {
		for _, secret := range typed {
			for _, form := range []string{secret, strings.ToLower(secret)} {
				if strings.Contains(strings.ToLower(s), strings.ToLower(form)) {
					t.Errorf("%q found in the %s", secret, where)
				}
			}
		}
	}
	// The stream has "Signed Up" twice (the SDK's custom event in the
	// recording, the stored track message after it); the timeline once.
	if n := strings.Count(run.Replay, `"Signed Up"`); n != 2 || !strings.Contains(run.Replay, `"tag":"veil.track"`) {
		t.Errorf("replay stream: %d × \"Signed Up\", %d bytes", n, len(run.Replay))
	}
	for _, u := range run.Requests {
		if !strings.HasPrefix(u, v.base+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") && u != "about:blank" {
			t.Errorf("dashboard request outside the dashboard: %s", u)
		}
	}
	for _, f := range run.Failed {
		t.Errorf("dashboard response: %s", f)
	}
	for _, c := range run.Console {
		if !strings.HasPrefix(c, "error: Failed to load resource") { // statuses checked above
			t.Errorf("console: %s", c)
		}
	}
	t.Logf("first frame %.0f ms after navigation start; moments %v", run.Linked.FirstFrame, l.Marks)
}
