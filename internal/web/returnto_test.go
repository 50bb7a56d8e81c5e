package web

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeReturn(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"/orgs/org_1/projects/prj_2/sessions/ses_3?t=90s", true},
		{"/orgs/org_1/projects/prj_2/sessions?event=checkout&sort=duration&after=MTc6c2Vz", true},
		{"/account", true},
		{"/", true},
		{"/orgs/o/events/m?t=2026-12-05T10%3A00%3A00Z", true},
		{"/a/b:c", true}, // a colon in the path is not a scheme
		{"", false},
		{"account", false},
		{"//evil.com", false},
		{"//evil.com/orgs", false},
		{"/\\evil.com", false},
		{"/\\/evil.com", false},
		{"\\\\evil.com", false},
		{"/a\\b", false},
		{"https://evil.com", false},
		{"http://evil.com/orgs", false},
		{"HTTPS://evil.com", false},
		{"%2F%2Fevil.com", false},
		{"/%2F%2Fevil.com", false},
		{"/%2fevil.com", false},
		{"/%5Cevil.com", false},
		{"/%5cevil.com", false},
		{"javascript:alert(1)", false},
		{"JavaScript:alert(1)", false},
		{" /account", false},
		{"/account\r\nSet-Cookie: x=y", false},
		{"/account%0d%0aSet-Cookie:%20x=y", false},
		{"/account%0AX", false},
		{"/account%00", false},
		{"/\t/evil.com", false},
		{"/%09/evil.com", false},
		{"/account#frag", false},
		{"/caf\xc3\xa9", false},
		{"/bad%zz", false},
		{"/" + strings.Repeat("a", maxReturnLen), false},
		{"/" + strings.Repeat("a", maxReturnLen-1), true},
	} {
		got := safeReturn(tc.in)
		if (got != "") != tc.ok || tc.ok && got != tc.in {
			t.Errorf("safeReturn(%q) = %q, want ok=%v", tc.in, got, tc.ok)
		}
	}
}

// FuzzSafeReturn: whatever it accepts, a browser on the dashboard resolves
// to the dashboard's own origin, and the value carries no control
// character, raw or percent-encoded.
func FuzzSafeReturn(f *testing.F) {
	for _, s := range []string{"/orgs/o/projects/p/sessions/s?t=90s", "//evil.com", "/\\evil.com", "/%2F%2Fevil.com",
		"https://evil.com", "javascript:alert(1)", "/a%0d%0ab", "/./../x", "/a?b=//c"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://veil.example/orgs/o/projects/p/sessions")
	f.Fuzz(func(t *testing.T, s string) {
		got := safeReturn(s)
		if got == "" {
			return
		}
		if got != s || len(s) > maxReturnLen || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n\t\x00#") {
			t.Fatalf("accepted %q", s)
		}
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("accepted unparsable %q: %v", s, err)
		}
		if r := base.ResolveReference(u); r.Scheme != "https" || r.Host != "veil.example" {
			t.Fatalf("%q resolves to %s", s, r)
		}
		dec, err := url.PathUnescape(s)
		if err != nil || strings.HasPrefix(dec, "//") || strings.ContainsAny(dec, "\\\r\n\t\x00") {
			t.Fatalf("accepted %q, decoded %q (%v)", s, dec, err)
		}
	})
}
