package sdk_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/testenv"
)

type capture struct {
	Path, Query, Mode string
	Body              []byte // decompressed
	Wire              int    // bytes on the wire (compressed when gzip)
}

type harness struct {
	t                  *testing.T
	root, dataDir, bin string
	site, host, veil   string
	key, key2, project string
	cmd                *exec.Cmd
	stderr             *bytes.Buffer
	mu                 sync.Mutex
	captures           []capture
	mode               string
	mark               int // captures before it are not counted by /__bytes
	chromium, node     string
	stopOnce           sync.Once
}

func sdkDir(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// requireBrowser finds node, Chromium and the SDK's node_modules, or calls
// testenv.Missing (fails under CI=true, skips otherwise).
func requireBrowser(t *testing.T) (node, chromium string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", "node is not on PATH")
	}
	chromium = os.Getenv("VEIL_CHROMIUM")
	if chromium == "" {
		for _, c := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
			if _, err := os.Stat(c); err == nil {
				chromium = c
				break
			}
		}
	}
	if chromium == "" {
		testenv.Missing(t, "chromium", "no Chromium at /usr/bin/chromium (apt-get install chromium; make deps does)")
	}
	if _, err := os.Stat(filepath.Join(sdkDir(t), "node_modules", "playwright-core")); err != nil {
		testenv.Missing(t, "sdk/node_modules", "run `npm ci` in sdk/ (make deps does)")
	}
	return node, chromium
}

func listen(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func buildVeil(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "veil")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/veil")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// newHarness starts `veil serve --demo`, a site server (the pages, with a
// strict CSP) and a capture proxy between the browser and Veil that keeps
// every upload's decompressed bytes and can fail on demand.
func newHarness(t *testing.T) *harness {
	node, chromium := requireBrowser(t)
	h := &harness{t: t, root: sdkDir(t), dataDir: t.TempDir(), bin: buildVeil(t), node: node, chromium: chromium, mode: "ok"}
	siteLn, hostLn := listen(t), listen(t)
	h.site = "http://" + siteLn.Addr().String()
	h.host = "http://" + hostLn.Addr().String()

	port := testenv.FreePort(t)
	h.veil = fmt.Sprintf("http://127.0.0.1:%d", port)
	h.stderr = &bytes.Buffer{}
	h.cmd = exec.Command(h.bin, "serve", "--demo", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--base-url", h.site)
	h.cmd.Env = append(os.Environ(), "VEIL_DATA="+h.dataDir)
	h.cmd.Stderr = &lockedWriter{w: h.stderr, mu: &h.mu}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.stop() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(h.veil + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("veil serve did not come up: %v\n%s", err, h.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var demo struct {
		ProjectID  string `json:"project_id"`
		BrowserKey string `json:"browser_key"`
	}
	b, err := os.ReadFile(filepath.Join(h.dataDir, "demo-credentials.json"))
	if err != nil || json.Unmarshal(b, &demo) != nil || demo.BrowserKey == "" {
		t.Fatalf("demo credentials: %v %s", err, b)
	}
	h.key, h.project = demo.BrowserKey, demo.ProjectID
	out, err := exec.Command(h.bin, "key", "create", "--project", h.project, "--kind", "browser", "--origin", h.veil, "--json", "--data", h.dataDir).Output()
	var k2 struct{ Key string }
	if err != nil || json.Unmarshal(out, &k2) != nil {
		t.Fatalf("key create: %v %s", err, out)
	}
	h.key2 = k2.Key

	target, _ := url.Parse(h.veil)
	proxy := httputil.NewSingleHostReverseProxy(target)
	hostSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.proxy(w, r, proxy) })}
	siteSrv := &http.Server{Handler: http.HandlerFunc(h.serveSite)}
	go hostSrv.Serve(hostLn)
	go siteSrv.Serve(siteLn)
	t.Cleanup(func() { hostSrv.Close(); siteSrv.Close() })
	return h
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (h *harness) logs() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stderr.String()
}

// stop ends `veil serve` with SIGTERM: its packer writes what the log
// holds, so export sees every acknowledged segment.
func (h *harness) stop() {
	h.stopOnce.Do(func() {
		h.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- h.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			h.cmd.Process.Kill()
			<-done
		}
	})
}

func (h *harness) proxy(w http.ResponseWriter, r *http.Request, proxy *httputil.ReverseProxy) {
	h.mu.Lock()
	configDown := h.mode == "config-down"
	h.mu.Unlock()
	if configDown && r.URL.Path == "/v1/sdk/config" {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		http.Error(w, `{"error":{"code":"unavailable","message":"test"}}`, http.StatusServiceUnavailable)
		return
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1/") {
		raw, _ := io.ReadAll(r.Body)
		body := raw
		if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				h.t.Errorf("upload with Content-Encoding gzip is not gzip: %v", err)
			} else if body, err = io.ReadAll(zr); err != nil {
				h.t.Errorf("bad gzip upload: %v", err)
			}
		}
		h.mu.Lock()
		mode := h.mode
		h.captures = append(h.captures, capture{Path: r.URL.Path, Query: r.URL.RawQuery, Mode: mode, Body: body, Wire: len(raw)})
		h.mu.Unlock()
		switch mode {
		case "503", "429":
			w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
			w.Header().Set("Retry-After", "1")
			code := 503
			if mode == "429" {
				code = 429
			}
			http.Error(w, `{"error":{"code":"unavailable","message":"test"}}`, code)
			return
		case "down":
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		r.ContentLength = int64(len(raw))
	}
	proxy.ServeHTTP(w, r)
}

var variants = map[string]string{
	"":        "",
	"iframes": `data-record-iframes="true"`,
	"consent": `data-consent="required"`,
	"fast":    `data-flush-interval="250" data-max-queue-bytes="65536"`,
}

func (h *harness) serveSite(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/__mode" && r.Method == http.MethodPost:
		h.mu.Lock()
		h.mode = r.URL.Query().Get("m")
		h.mu.Unlock()
		return
	case p == "/__attempts" && r.Method == http.MethodPost:
		// How many uploads reached the proxy in mode ?m= so far.
		h.mu.Lock()
		defer h.mu.Unlock()
		n := 0
		for _, c := range h.captures {
			if c.Mode == r.URL.Query().Get("m") {
				n++
			}
		}
		json.NewEncoder(w).Encode(n)
		return
	case p == "/__bytes" && r.Method == http.MethodPost:
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.URL.Query().Has("reset") {
			h.mark = len(h.captures)
			return
		}
		var sum struct{ Uploads, Replay, Wire, Decoded int }
		for _, c := range h.captures[h.mark:] {
			sum.Uploads++
			if c.Path == "/v1/replay" {
				sum.Replay++
			}
			sum.Wire += c.Wire
			sum.Decoded += len(c.Body)
		}
		json.NewEncoder(w).Encode(sum)
		return
	case strings.HasPrefix(p, "/api/echo"):
		b, _ := os.ReadFile(filepath.Join(h.root, "test", "pages", "echo.json"))
		w.Header().Set("X-Secret", "ZQXRESPHDR") // also planted in test/pages/echo.headers
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
		return
	}
	variant := ""
	if strings.HasPrefix(p, "/v/") {
		rest := strings.TrimPrefix(p, "/v/")
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			http.NotFound(w, r)
			return
		}
		variant, p = rest[:i], rest[i:]
	}
	attrs, ok := variants[variant]
	name := filepath.Base(p)
	b, err := os.ReadFile(filepath.Join(h.root, "test", "pages", name))
	if !ok || err != nil || name == "." || name == "/" {
		http.NotFound(w, r)
		return
	}
	switch filepath.Ext(name) {
	case ".html":
		b = bytes.NewBufferString(strings.NewReplacer("{{HOST}}", h.host, "{{KEY}}", h.key, "{{ATTRS}}", attrs).Replace(string(b))).Bytes()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// What docs/sdk.md tells site owners: the SDK needs script-src and
		// connect-src for the Veil host and nothing else: no inline script,
		// no eval, no workers.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+h.host+"; connect-src 'self' "+h.host+"; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; object-src 'self'; media-src 'self'")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript")
	case ".css":
		w.Header().Set("Content-Type", "text/css")
	}
	w.Write(b)
}

// node runs a script in test/ with one JSON argument and decodes its output.
func (h *harness) runNode(ctx context.Context, script string, arg any, out any) {
	h.t.Helper()
	a, _ := json.Marshal(arg)
	cmd := exec.CommandContext(ctx, h.node, filepath.Join("test", script), string(a))
	cmd.Dir = h.root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		h.t.Fatalf("node %s: %v\n%s\n%s", script, err, b, stderr.String())
	}
	if err := json.Unmarshal(b, out); err != nil {
		h.t.Fatalf("node %s output: %v\n%.2000s\n%s", script, err, b, stderr.String())
	}
}

// leaks counts canaries (by category) found in b; digits-with-spaces
// canaries are also looked for without the spaces.
func leaks(b []byte) map[string][]string {
	found := map[string][]string{}
	lower := bytes.ToLower(b)
	for cat, list := range canaries {
		for _, c := range list {
			forms := []string{strings.ToLower(c)}
			if strings.Contains(c, " ") && strings.Trim(c, "0123456789 +") == "" {
				forms = append(forms, strings.ReplaceAll(c, " ", ""))
			}
			for _, f := range forms {
				if bytes.Contains(lower, []byte(f)) {
					found[cat] = append(found[cat], c)
					break
				}
			}
		}
	}
	return found
}
