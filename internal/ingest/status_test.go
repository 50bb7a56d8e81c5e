package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/writekey"
)

// TestStatuses covers every documented error status with its JSON body.
func TestStatuses(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	revoked, revokedSecret, err := e.prov.CreateKey(ctx, e.project.ProjectID, veil.KeyServer, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.prov.RevokeKey(ctx, e.project.ProjectID, revoked.ID)
	sk, bk := e.project.ServerKey, e.project.BrowserKey
	ok := `{"event":"E","userId":"u"}`
	big := fmt.Sprintf(`{"event":"E","userId":"u","properties":{"x":%q}}`, strings.Repeat("a", 33*1024))
	var many []string
	for i := 0; i < 20; i++ {
		many = append(many, fmt.Sprintf(`{"type":"track","event":"E","userId":"u","properties":{"x":%q}}`, strings.Repeat("b", 30*1024)))
	}
	hugeBatch := `{"batch":[` + strings.Join(many, ",") + `]}`

	tests := []struct {
		name       string
		r          req
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"OK", req{path: "/v1/track", body: ok, key: sk}, 200, "", ""},
		{"MalformedJSON", req{path: "/v1/track", body: `{"event":`, key: sk}, 400, veil.EINVALID, ""},
		{"TrackWithoutEvent", req{path: "/v1/track", body: `{"userId":"u"}`, key: sk}, 400, veil.EINVALID, ""},
		{"NoUser", req{path: "/v1/track", body: `{"event":"E"}`, key: sk}, 400, veil.EINVALID, ""},
		{"NoKey", req{path: "/v1/track", body: ok}, 401, veil.EUNAUTHORIZED, "Missing write key"},
		{"UnknownKey", req{path: "/v1/track", body: ok, key: "veil_sk_" + strings.Repeat("0", 52)}, 401, veil.EUNAUTHORIZED, "Invalid write key"},
		{"NotAVeilKey", req{path: "/v1/track", body: ok, key: "sk_live_abcdef"}, 401, veil.EUNAUTHORIZED, ""},
		{"RevokedKey", req{path: "/v1/track", body: ok, key: revokedSecret}, 401, veil.EUNAUTHORIZED, "revoked"},
		{"BrowserKeyNoOrigin", req{path: "/v1/track", body: ok, key: bk}, 403, veil.EFORBIDDEN, ""},
		{"ServerKeyFromBrowser", req{path: "/v1/track", body: ok, key: sk, origin: "https://shop.example.com"}, 403, veil.EFORBIDDEN, "browser"},
		{"MessageTooLarge", req{path: "/v1/track", body: big, key: sk}, 413, veil.ETOOLARGE, "32 KB"},
		{"BatchTooLarge", req{path: "/v1/batch", body: hugeBatch, key: sk}, 413, veil.ETOOLARGE, "500 KB"},
		{"BadEncoding", req{path: "/v1/track", body: ok, key: sk, headers: map[string]string{"Content-Encoding": "br"}}, 415, veil.EUNSUPPORTED, ""},
		{"BadContentType", req{path: "/v1/track", body: ok, key: sk, headers: map[string]string{"Content-Type": "application/xml"}}, 415, veil.EUNSUPPORTED, ""},
		{"NotGzip", req{path: "/v1/track", body: ok, key: sk, headers: map[string]string{"Content-Encoding": "gzip"}}, 400, veil.EINVALID, "gzip"},
		{"ReplayBadSession", req{path: "/v1/replay?session=x&seq=0", body: `[]`, key: sk}, 400, veil.EINVALID, "session"},
		{"ReplayBadSeq", req{path: "/v1/replay?session=sess-12345678&seq=-1", body: `[]`, key: sk}, 400, veil.EINVALID, "seq"},
		{"ReplayNotRRWeb", req{path: "/v1/replay?session=sess-12345678&seq=0", body: `{"events":"no"}`, key: sk}, 400, veil.EINVALID, ""},
		{"ReplayNoTimestamp", req{path: "/v1/replay?session=sess-12345678&seq=0", body: `[{"type":3,"data":{}}]`, key: sk}, 400, veil.EINVALID, "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.r)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantCode == "" {
				return
			}
			if code := errCode(t, r.body); code != tt.wantCode {
				t.Fatalf("code %q, want %q: %s", code, tt.wantCode, r.body)
			}
			if !strings.Contains(r.body, tt.wantMsg) {
				t.Fatalf("body %s lacks %q", r.body, tt.wantMsg)
			}
			if r.header.Get("Access-Control-Allow-Origin") != "" {
				t.Fatal("CORS header on a refused request")
			}
		})
	}
}

func TestOriginMatrix(t *testing.T) {
	e := newEnv(t, nil)
	body := `{"event":"E","anonymousId":"a"}`
	tests := []struct {
		origin, referer string
		want            int
	}{
		{"https://shop.example.com", "", 200},
		{"https://eu.example.org", "", 200},            // wildcard
		{"https://a.b.example.org", "", 200},           // deeper wildcard
		{"https://example.org", "", 403},               // wildcard needs a subdomain
		{"", "https://shop.example.com/cart?x=1", 200}, // sendBeacon: Referer
		{"", "", 403},
		{"null", "", 403},
		{"https://shop.example.com.evil.net", "", 403},
		{"https://evil-shop.example.com", "", 403},
		{"https://evilexample.org", "", 403},
		{"http://shop.example.com", "", 403},       // scheme
		{"https://shop.example.com:8443", "", 403}, // port
		{"", "not a url", 403},
	}
	for _, tt := range tests {
		r := e.do(req{path: "/v1/track", body: body, key: e.project.BrowserKey, origin: tt.origin, referer: tt.referer})
		if r.status != tt.want {
			t.Errorf("origin %q referer %q: %d, want %d (%s)", tt.origin, tt.referer, r.status, tt.want, r.body)
		}
	}
}

func TestPreflight(t *testing.T) {
	e := newEnv(t, nil)
	pre := func(origin, key string) *http.Response {
		r, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/v1/replay?key="+key, nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := pre("https://shop.example.com", e.project.BrowserKey); res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" {
		t.Fatalf("allowed preflight: %d %v", res.StatusCode, res.Header)
	}
	for _, c := range []struct{ origin, key string }{
		{"https://evil.example.net", e.project.BrowserKey},
		{"https://shop.example.com", ""},
		{"https://shop.example.com", e.project.ServerKey},
	} {
		if res := pre(c.origin, c.key); res.StatusCode != 403 || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight %q with key %.10s: %d", c.origin, c.key, res.StatusCode)
		}
	}
}

// TestGzipBomb: a small request that inflates far past the limit is
// refused after inflating at most the limit.
func TestGzipBomb(t *testing.T) {
	e := newEnv(t, func(o *ingest.Options) {
		o.ReplayLimits = ingest.BodyLimits{MaxCompressed: 1 << 20, MaxDecoded: 1 << 20}
	})
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for i := 0; i < 10; i++ { // 10 MB of zeros → ~10 KB on the wire
		zw.Write(zero)
	}
	zw.Close()
	hr, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/replay?session=sess-12345678&seq=0", &buf)
	hr.SetBasicAuth(e.project.ServerKey, "")
	hr.Header.Set("Content-Encoding", "gzip")
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("gzip bomb: %d, want 413", res.StatusCode)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(o *ingest.Options) { o.RatePerKey = 1 })
	body := `{"event":"E","userId":"u"}`
	var last resp
	for i := 0; i < 5; i++ {
		last = e.do(req{path: "/v1/track", body: body, key: e.project.ServerKey})
	}
	if last.status != 429 || errCode(t, last.body) != veil.ERATELIMITED || last.header.Get("Retry-After") == "" {
		t.Fatalf("rate limit: %d %s %v", last.status, last.body, last.header)
	}
}

// TestUnavailableLosesNothing: when the log cannot write (disk full), the
// request gets 503 + Retry-After, and data acknowledged before is intact;
// once the log works again, so does ingest.
func TestUnavailableLosesNothing(t *testing.T) {
	e := newEnv(t, nil)
	send := func(id string) resp {
		return e.do(req{path: "/v1/track", key: e.project.ServerKey,
			body: fmt.Sprintf(`{"event":"E","userId":"u","messageId":%q}`, id)})
	}
	if r := send("before"); r.status != 200 {
		t.Fatal(r.body)
	}
	e.log.fail = true
	r := send("during")
	if r.status != 503 || errCode(t, r.body) != veil.EUNAVAILABLE || r.header.Get("Retry-After") == "" {
		t.Fatalf("log failure: %d %s", r.status, r.body)
	}
	e.log.fail = false
	if r := send("during"); r.status != 200 { // the retry is not mistaken for a duplicate
		t.Fatalf("retry after recovery: %d %s", r.status, r.body)
	}
	e.pack()
	ids := map[string]int{}
	for _, m := range e.storedEvents() {
		ids[m["messageId"].(string)]++
	}
	if ids["before"] != 1 || ids["during"] != 1 || len(ids) != 2 {
		t.Fatalf("stored ids %v", ids)
	}
}

// TestRotationOverlap: a rotated key keeps working until its scheduled
// revocation, then fails at once (no cache).
func TestRotationOverlap(t *testing.T) {
	now := time.Now()
	e := newEnv(t, func(o *ingest.Options) { o.Now = func() time.Time { return now } })
	ctx := context.Background()
	keys, _ := e.db.ListKeys(ctx, e.project.ProjectID)
	var old *veil.WriteKey
	for _, k := range keys {
		if k.Kind == veil.KeyServer {
			old = k
		}
	}
	prov := *e.prov
	prov.Now = func() time.Time { return now }
	_, newSecret, err := prov.RotateKey(ctx, e.project.ProjectID, old, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"event":"E","userId":"u"}`
	for _, key := range []string{e.project.ServerKey, newSecret} {
		if r := e.do(req{path: "/v1/track", body: body, key: key}); r.status != 200 {
			t.Fatalf("during overlap: %d %s", r.status, r.body)
		}
	}
	now = now.Add(time.Hour + time.Second)
	if r := e.do(req{path: "/v1/track", body: body, key: e.project.ServerKey}); r.status != 401 {
		t.Fatalf("old key after overlap: %d %s", r.status, r.body)
	}
	if r := e.do(req{path: "/v1/track", body: body, key: newSecret}); r.status != 200 {
		t.Fatalf("new key after overlap: %d %s", r.status, r.body)
	}
	// During an overlap, an immediate revocation overrides the scheduled one.
	cur, _ := e.db.FindKeyByPrefix(ctx, writekey.Prefix(newSecret))
	_, third, err := prov.RotateKey(ctx, e.project.ProjectID, cur, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := prov.RevokeKey(ctx, e.project.ProjectID, cur.ID); err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{path: "/v1/track", body: body, key: newSecret}); r.status != 401 {
		t.Fatalf("revoked during overlap: %d %s", r.status, r.body)
	}
	if r := e.do(req{path: "/v1/track", body: body, key: third}); r.status != 200 {
		t.Fatalf("successor: %d %s", r.status, r.body)
	}
}
