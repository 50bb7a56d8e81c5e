package sdk_test

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/sdk"
)

func get(t *testing.T, h http.Handler, path string, hdr ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestHandler(t *testing.T) {
	h := sdk.Handler()
	for _, tc := range []struct {
		path, cache string
	}{
		{"/sdk/veil.js", "public, max-age=300"},
		{sdk.VersionedPath(), "public, max-age=31536000, immutable"},
		{"/sdk/veil.mjs", "public, max-age=300"},
		{"/sdk/veil-" + sdk.Version() + ".mjs", "public, max-age=31536000, immutable"},
	} {
		resp := get(t, h, tc.path)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || resp.Header.Get("Cache-Control") != tc.cache {
			t.Errorf("%s: %d %q %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
			t.Errorf("%s: cross-origin headers missing (SRI needs CORS)", tc.path)
		}
		if len(body) < 10000 {
			t.Errorf("%s: %d bytes", tc.path, len(body))
		}
		if et := resp.Header.Get("ETag"); et == "" || get(t, h, tc.path, "If-None-Match", et).StatusCode != http.StatusNotModified {
			t.Errorf("%s: ETag revalidation does not answer 304", tc.path)
		}
	}
	for _, p := range []string{"/sdk/veil-0.0.0.js", "/sdk/other.js", "/sdk/veil.d.ts"} {
		if code := get(t, h, p).StatusCode; code != 404 {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	sum := sha512.Sum384(sdk.Script())
	if want := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); sdk.Integrity() != want {
		t.Errorf("Integrity() = %s, want %s", sdk.Integrity(), want)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(sdk.Version()) {
		t.Errorf("Version() = %q", sdk.Version())
	}
}

// TestNoEval: the bundle must run under a CSP without 'unsafe-eval'.
func TestNoEval(t *testing.T) {
	for name, b := range map[string][]byte{"veil.js": sdk.Script(), "veil.mjs": sdk.Module()} {
		for _, bad := range []string{"eval(", "new Function", "Function(\"", "setTimeout(\"", "setInterval(\""} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}

func TestInstallPages(t *testing.T) {
	h := sdk.Handler()
	resp := get(t, h, "/sdk/")
	raw, _ := io.ReadAll(resp.Body)
	body := html.UnescapeString(string(raw))
	if resp.StatusCode != 200 || !strings.Contains(body, sdk.Integrity()) || !strings.Contains(body, sdk.VersionedPath()) {
		t.Fatalf("install page: %d\n%s", resp.StatusCode, body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("install page CSP %q", csp)
	}
	resp = get(t, h, `/sdk/demo?key=veil_wk_abc"><script>`)
	raw, _ = io.ReadAll(resp.Body)
	if strings.Contains(string(raw), "<script>") || strings.Contains(string(raw), "data-key=") {
		t.Errorf("demo page accepted an invalid key:\n%s", body)
	}
	resp = get(t, h, "/sdk/demo?key=veil_wk_abc123")
	raw, _ = io.ReadAll(resp.Body)
	body = html.UnescapeString(string(raw))
	if !strings.Contains(body, `data-key="veil_wk_abc123"`) || !strings.Contains(body, `integrity="`+sdk.Integrity()+`"`) {
		t.Errorf("demo page:\n%s", body)
	}
	if s := sdk.Snippet("https://veil.example.com/", ""); !strings.HasPrefix(s, `<script src="https://veil.example.com/sdk/veil-`) || !strings.Contains(s, `crossorigin="anonymous"`) {
		t.Errorf("snippet %s", s)
	}
}
