package web

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestSanitizeReplay(t *testing.T) {
	raw, err := os.ReadFile("testdata/hostile.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := sanitizeReplay(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out) {
		t.Fatalf("not JSON: %s", out)
	}
	s := string(out)
	// The meta event's href stays (the Replayer does not load it); every
	// other CANARY reference must be gone.
	if n := strings.Count(s, "CANARY"); n != 1 {
		t.Errorf("%d CANARY references left, want 1 (meta href):\n%s", n, s)
	}
	for _, bad := range []string{`"script"`, "javascript:", "VEIL_PWNED", "onload", "onerror", "http-equiv", "@import", "image-set", "srcdoc"} {
		if strings.Contains(s, bad) {
			t.Errorf("sanitized replay still holds %q", bad)
		}
	}
	for _, keep := range []string{"data:image/png;base64", "****** ****", "rr_width", `"id":33`} {
		if !strings.Contains(s, keep) {
			t.Errorf("sanitized replay lost %q", keep)
		}
	}
}

func TestSanitizeCSS(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a{color:red}", "a{color:red}"},
		{"a{background:url(http://x/y.png) no-repeat}", "a{background:none no-repeat}"},
		{`a{background:url( "data:image/png;base64,AA" )}`, `a{background:url( "data:image/png;base64,AA" )}`},
		{`a{background:url("data:image/svg+xml,<svg/>")}`, "a{background:none}"},
		{"@import 'x.css'; a{b:c}", " a{b:c}"},
		{`a{background:\75 rl(http://x/y.png)}`, "a{background:none}"},
	} {
		if got := sanitizeCSS(tc.in); got != tc.want {
			t.Errorf("sanitizeCSS(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSanitizeReplay: whatever a recording holds, the sanitized output is
// valid JSON without a script element or a javascript: URL in an
// attribute, and sanitizing it again changes nothing.
func FuzzSanitizeReplay(f *testing.F) {
	if raw, err := os.ReadFile("testdata/hostile.json"); err == nil {
		f.Add(raw)
	}
	f.Add([]byte(`[{"type":2,"data":{"node":{"type":2,"tagName":"SCRIPT","attributes":{"src":"x"}}}}]`))
	f.Add([]byte(`[{"type":2.0,"data":{"node":{"type":2e0,"tagName":"script","attributes":{"src":"x"}}}}]`))
	f.Add([]byte(`[{"type":3,"data":{"source":0,"attributes":[{"id":1,"attributes":{"href":"javascript:x","style":{"a":["url(x)","important"]}}}]}}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := sanitizeReplay(raw)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON out: %s", out)
		}
		var v any
		json.Unmarshal(out, &v)
		if hasScript(v) {
			t.Fatalf("script element left: %s", out)
		}
		again, err := sanitizeReplay(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not idempotent:\n%s\n%s", out, again)
		}
	})
}

// hasScript reports whether v holds, anywhere, an element node (type 2)
// whose tag is script.
func hasScript(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		if tag, _ := v["tagName"].(string); v["type"] == 2.0 && strings.EqualFold(tag, "script") {
			return true
		}
		for _, x := range v {
			if hasScript(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasScript(x) {
				return true
			}
		}
	}
	return false
}
