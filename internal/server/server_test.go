package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/server"
)

// mustServe starts s on 127.0.0.1:0 and returns its base URL; the server is
// stopped when the test ends.
// stop cancels the server and returns Serve's result; it may be called
// more than once.
func mustServe(t *testing.T, s *server.Server) (base string, stop func() error) {
	t.Helper()
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	stop = sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() { stop() })
	return "http://" + s.Addr(), stop
}

func newServer(opts server.Options) *server.Server {
	opts.Addr = "127.0.0.1:0"
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return server.New(opts)
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	storeErr := errors.New("dial tcp 10.0.0.9:5432: secret-detail")
	var failing bool
	s := newServer(server.Options{Checks: []server.Check{
		{Name: "store", Func: func(context.Context) error {
			if failing {
				return storeErr
			}
			return nil
		}},
		{Name: "blobs", Func: func(context.Context) error { return nil }},
	}})
	base, _ := mustServe(t, s)

	resp, body := get(t, http.DefaultClient, base+"/healthz")
	if resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, http.DefaultClient, base+"/readyz")
	if resp.StatusCode != 200 {
		t.Fatalf("readyz healthy: %d %s", resp.StatusCode, body)
	}
	failing = true
	resp, body = get(t, http.DefaultClient, base+"/readyz")
	var got struct {
		Status string
		Checks map[string]string
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 || got.Checks["store"] != "unavailable" || got.Checks["blobs"] != "ok" {
		t.Fatalf("readyz failing: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "secret-detail") {
		t.Fatal("readyz leaked internal error details")
	}
}

func TestSecurityHeadersAndMetrics(t *testing.T) {
	s := newServer(server.Options{})
	s.Handle("GET /hello/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }))
	base, _ := mustServe(t, s)
	for _, id := range []string{"a", "b", "c"} {
		resp, _ := get(t, http.DefaultClient, base+"/hello/"+id)
		for h, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
			"X-Frame-Options":        "DENY",
		} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Error("CSP lacks frame-ancestors")
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Error("HSTS sent over plain HTTP")
		}
	}
	_, body := get(t, http.DefaultClient, base+"/metrics")
	for _, want := range []string{
		`veil_http_requests_total{code="200",method="GET",route="GET /hello/{id}"} 3`,
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, "/hello/a") {
		t.Error("metrics carry raw paths")
	}
}

func TestSeparateMetricsAddr(t *testing.T) {
	s := newServer(server.Options{MetricsAddr: "127.0.0.1:0"})
	base, _ := mustServe(t, s)
	if resp, _ := get(t, http.DefaultClient, base+"/metrics"); resp.StatusCode != 404 {
		t.Fatalf("/metrics on main listener: %d, want 404", resp.StatusCode)
	}
	if resp, body := get(t, http.DefaultClient, "http://"+s.MetricsAddr()+"/metrics"); resp.StatusCode != 200 || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics listener: %d", resp.StatusCode)
	}
}

// TestPprofOnlyOnMetricsListener: the profiler is served on the private
// metrics listener when asked for, never on the main one.
func TestPprofOnlyOnMetricsListener(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        server.Options
		mainStatus  int
		metricsWant int // 0: no metrics listener
	}{
		{"off", server.Options{MetricsAddr: "127.0.0.1:0"}, 404, 404},
		{"on", server.Options{MetricsAddr: "127.0.0.1:0", Pprof: true}, 404, 200},
		{"on without metrics listener", server.Options{Pprof: true}, 404, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(tc.opts)
			base, _ := mustServe(t, s)
			if resp, _ := get(t, http.DefaultClient, base+"/debug/pprof/"); resp.StatusCode != tc.mainStatus {
				t.Errorf("main listener /debug/pprof/: %d, want %d", resp.StatusCode, tc.mainStatus)
			}
			if tc.metricsWant == 0 {
				return
			}
			resp, body := get(t, http.DefaultClient, "http://"+s.MetricsAddr()+"/debug/pprof/")
			if resp.StatusCode != tc.metricsWant {
				t.Errorf("metrics listener /debug/pprof/: %d, want %d", resp.StatusCode, tc.metricsWant)
			}
			if tc.metricsWant == 200 && !strings.Contains(body, "goroutine") {
				t.Error("pprof index lacks the goroutine profile")
			}
		})
	}
}

func TestBodyLimitAndPanic(t *testing.T) {
	s := newServer(server.Options{MaxBody: 1024})
	s.Handle("POST /echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "too big", http.StatusRequestEntityTooLarge)
		}
	}))
	s.Handle("GET /boom", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("recorded content: 4111111111111111") }))
	base, _ := mustServe(t, s)

	resp, err := http.Post(base+"/echo", "application/json", strings.NewReader(strings.Repeat("x", 2048)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(body), `"too_large"`) {
		t.Fatalf("oversized body: %d %s", resp.StatusCode, body)
	}
	resp, bodyS := get(t, http.DefaultClient, base+"/boom")
	if resp.StatusCode != 500 || strings.Contains(bodyS, "4111") {
		t.Fatalf("panic: %d %s", resp.StatusCode, bodyS)
	}
	// The server survives the panic.
	if resp, _ := get(t, http.DefaultClient, base+"/healthz"); resp.StatusCode != 200 {
		t.Fatal("server down after panic")
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	started := make(chan struct{})
	s := newServer(server.Options{})
	s.Handle("GET /slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "finished")
	}))
	base, stop := mustServe(t, s)
	type result struct {
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			res <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- result{body: string(b)}
	}()
	<-started
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	if r := <-res; r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: %q %v", r.body, r.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Serve returned %v, want nil", err)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
		t.Fatal("still accepting connections after shutdown")
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	s := newServer(server.Options{TLSCert: certFile, TLSKey: keyFile})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	c := func(max uint16) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: max}}}
	}
	resp, _ := get(t, c(0), "https://"+s.Addr()+"/healthz")
	if !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatal("no HSTS over TLS")
	}
	if _, err := c(tls.VersionTLS11).Get("https://" + s.Addr() + "/healthz"); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
}

func TestTLSBadCertFailsAtStart(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a cert"), 0o600)
	s := newServer(server.Options{TLSCert: bad, TLSKey: bad})
	err := s.Serve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "load TLS certificate") {
		t.Fatalf("want clear TLS error, got %v", err)
	}
}

func writeSelfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return cf, kf
}
