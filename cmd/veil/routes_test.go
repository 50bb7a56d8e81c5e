package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/server"
	"github.com/veil-privacy/veil/internal/web"
)

// TestEveryRouteIsAccessTested enumerates every route the real server
// mounts and fails when one is not covered by an access-control test: the
// dashboard's routes by internal/web's isolation matrix, /api/v1/ by
// internal/api's, and the rest by the classes below, which this test
// checks itself. A new route must be added to one of them.
func TestEveryRouteIsAccessTested(t *testing.T) {
	public := map[string]bool{ // no credentials by design
		"GET /healthz": true, "GET /readyz": true, "GET /metrics": true, "GET /{$}": true, "GET /sdk/": true,
	}
	ingest := map[string]bool{} // write-key routes: internal/ingest tests keys and origins
	for _, k := range []string{"track", "identify", "page", "screen", "group", "alias", "batch", "import", "replay"} {
		ingest["POST /v1/"+k] = true
		ingest["OPTIONS /v1/"+k] = true
	}
	ingest["GET /v1/sdk/config"] = true // the SDK's masking defaults: same key and origin checks
	dashboard := map[string]bool{}
	for _, r := range new(web.Handler).Routes() {
		dashboard[r.Pattern] = true
	}

	got := make(chan *server.Server, 1)
	testHookServing = func(s *server.Server) { got <- s }
	defer func() { testHookServing = nil }()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, &cli{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}, getenv: func(string) string { return "" }})
	}()
	defer func() { cancel(); <-done }()
	var srv *server.Server
	select {
	case srv = <-got:
	case code := <-done:
		t.Fatalf("serve exited with %d before serving", code)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	base := "http://" + srv.Addr() // Listen happened before the hook
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range srv.Patterns() {
		switch {
		case public[p], dashboard[p], p == "/api/v1/":
		case ingest[p]:
			// A valid request but for the write key: refused, and never
			// with CORS headers.
			method, path, _ := strings.Cut(p, " ")
			body := `{"event":"E","userId":"u","groupId":"g","previousId":"p","name":"n"}`
			switch {
			case strings.HasSuffix(path, "/batch") || strings.HasSuffix(path, "/import"):
				body = `{"batch":[{"type":"track","event":"E","userId":"u"}]}`
			case strings.HasSuffix(path, "/replay"):
				path += "?session=sess-12345678&seq=0"
				body = `[{"type":4,"timestamp":1,"data":{"href":"https://a.example/"}}]`
			}
			req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
			req.Header.Set("Origin", "https://evil.example")
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusForbidden {
				t.Errorf("%s without a key: %d, want 401 or 403", p, res.StatusCode)
			}
			if res.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s sent CORS headers to an unknown origin", p)
			}
		default:
			t.Errorf("route %q is in no access-control test: add it to internal/web's or internal/api's route table, or classify it here", p)
		}
	}
	// /api/v1/ without a token is refused (internal/api covers each route).
	res, err := client.Get(base + "/api/v1/orgs")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/orgs without a token: %d, want 401", res.StatusCode)
	}
}
