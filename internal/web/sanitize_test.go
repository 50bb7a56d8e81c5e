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
