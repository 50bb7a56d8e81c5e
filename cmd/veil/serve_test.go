package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
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

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// veilBinary builds the real binary once per test run.
func veilBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "veil-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "veil")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// syncBuffer is a bytes.Buffer safe for a writer process and a reader test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startServe runs `veil serve` as a process and waits until /healthz answers.
func startServe(t *testing.T, env []string, args ...string) (*exec.Cmd, string, *syncBuffer, *syncBuffer) {
	t.Helper()
	port := testenv.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(veilBinary(t), append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return cmd, base, stdout, stderr
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v\nstderr:\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeDemoAndSIGTERM runs the real binary: the demo is created and
// printed, health/readiness/metrics answer, and SIGTERM stops it cleanly
// with exit status 0.
func TestServeDemoAndSIGTERM(t *testing.T) {
	dir := t.TempDir()
	cmd, base, stdout, stderr := startServe(t, []string{"VEIL_DATA=" + dir}, "--demo")
	if code, body := httpGet(t, base+"/readyz"); code != 200 || !strings.Contains(body, `"store":"ok"`) || !strings.Contains(body, `"blobs":"ok"`) {
		t.Fatalf("readyz: %d %s", code, body)
	}
	if code, body := httpGet(t, base+"/"); code != 200 || !strings.Contains(body, "demo@veil.localhost") {
		t.Fatalf("home: %d", code)
	}
	if _, body := httpGet(t, base+"/metrics"); !strings.Contains(body, `veil_http_requests_total{code="200",method="GET",route="GET /readyz"} 1`) {
		t.Fatalf("metrics lack the readyz request:\n%.2000s", body)
	}
	out := stdout.String()
	for _, want := range []string{"Veil demo is ready at " + base, "demo@veil.localhost", "veil_wk_", "veil_sk_"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo banner lacks %q:\n%s", want, out)
		}
	}
	// One acknowledged event is one group commit of the log, in the metrics.
	track, _ := http.NewRequest("POST", base+"/v1/track", strings.NewReader(`{"userId":"u-1","event":"Signed Up"}`))
	track.SetBasicAuth(regexp.MustCompile(`veil_sk_[a-z0-9]+`).FindString(out), "")
	track.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(track); err != nil || resp.StatusCode != 200 {
		t.Fatalf("track: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	_, metrics := httpGet(t, base+"/metrics")
	for _, want := range []string{"veil_wal_sync_seconds_count 1\n", "veil_wal_write_seconds_count 1\n", "veil_wal_commit_appends_sum 1\n", `veil_ingest_events_total{outcome="accepted"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop within 30s of SIGTERM")
	}
	if !strings.Contains(stderr.String(), "veil stopped") {
		t.Fatalf("no clean stop logged:\n%s", stderr.String())
	}

	// A second start reuses the demo and prints the same credentials.
	cmd2, base2, stdout2, _ := startServe(t, []string{"VEIL_DATA=" + dir, "VEIL_LOG_FORMAT=json"}, "--demo")
	// The demo key follows the server to its new address.
	bk := strings.Fields(strings.SplitN(firstLineWith(out, "browser key:"), "browser key:", 2)[1])[0]
	req, _ := http.NewRequest(http.MethodPost, base2+"/v1/track", strings.NewReader(`{"event":"E","anonymousId":"a"}`))
	req.SetBasicAuth(bk, "")
	req.Header.Set("Origin", base2)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("demo key from the new origin: %v %v", err, res.Status)
	}
	if !strings.Contains(stdout2.String(), firstLineWith(out, "server key:")) ||
		!strings.Contains(stdout2.String(), strings.SplitN(firstLineWith(out, "log in:"), " as ", 2)[1]) {
		t.Fatalf("restarted demo printed different credentials:\n%s", stdout2.String())
	}
	cmd2.Process.Signal(syscall.SIGTERM)
	cmd2.Wait()

	// doctor: loopback demo is a warning, not critical.
	r := runVeil(t, nil, "doctor", "--data", dir, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"demo"`) {
		t.Fatalf("doctor on loopback demo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runVeil(t, nil, "doctor", "--data", dir, "--addr", "0.0.0.0:8080")
	if r.code != 1 || !strings.Contains(r.stdout, "CRITICAL  tls") || !strings.Contains(r.stdout, "CRITICAL  demo") {
		t.Fatalf("doctor on public demo without TLS: exit %d\n%s", r.code, r.stdout)
	}
}

func firstLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return "\x00missing"
}

// TestServeScaleOut runs the binary on Postgres + S3 with the master key
// from the environment, as a multi-node deployment would: provisioning from
// the CLI, readiness from the server, and only the local log in --data.
func TestServeScaleOut(t *testing.T) {
	dsn := testenv.Postgres(t)
	blobs := testenv.S3BlobURL(t, "veil")
	keyFile := filepath.Join(t.TempDir(), "master.key")
	mustVeil(t, nil, "key", "generate-master", "--out", keyFile)
	key, _ := os.ReadFile(keyFile)
	env := map[string]string{"VEIL_DATABASE": dsn, "VEIL_BLOBS": blobs, "VEIL_MASTER_KEY": string(key)}
	np := decode[newProject](t, mustVeil(t, env, "project", "create", "--name", "shop", "--json").stdout)
	if np.ProjectID == "" {
		t.Fatal("no project id")
	}
	data := filepath.Join(t.TempDir(), "unused")
	procEnv := []string{"VEIL_DATABASE=" + dsn, "VEIL_BLOBS=" + blobs, "VEIL_MASTER_KEY=" + string(key), "VEIL_DATA=" + data,
		"AWS_ACCESS_KEY_ID=" + os.Getenv("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY=" + os.Getenv("AWS_SECRET_ACCESS_KEY")}
	_, base, _, stderr := startServe(t, procEnv)
	if code, body := httpGet(t, base+"/readyz"); code != 200 {
		t.Fatalf("readyz on postgres+s3: %d %s\n%s", code, body, stderr.String())
	}
	if !strings.Contains(stderr.String(), "database=postgres") {
		t.Fatalf("not running on postgres:\n%s", stderr.String())
	}
	// Only this node's write-ahead log lives on local disk in scale-out mode.
	for _, name := range []string{"veil.db", "blobs", "master.key"} {
		if _, err := os.Stat(filepath.Join(data, name)); err == nil {
			t.Errorf("scale-out mode wrote %s to --data", name)
		}
	}
	r := mustVeil(t, env, "project", "list", "--json")
	if !strings.Contains(r.stdout, np.ProjectID) {
		t.Fatalf("project list on postgres: %s", r.stdout)
	}
}
