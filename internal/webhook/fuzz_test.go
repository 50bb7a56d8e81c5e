package webhook

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/netguard"
)

// FuzzValidateURL: endpoint URLs come from people (API, dashboard, CLI).
// Whatever is accepted is an absolute http(s) URL with a host, no
// credentials, at most 2048 bytes, and (private targets not allowed) no
// literal address that delivery would refuse, nor localhost.
func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{"https://hooks.example.com/in", "http://10.0.0.1/x", "https://[::1]:8443/", "https://user:pw@example.com/",
		"https://LOCALHOST./x", "https://169.254.169.254/latest", "ftp://example.com/", "https://[::ffff:127.0.0.1]/", "//example.com",
		"https://example.com:99999/", "https://[fe80::1%25eth0]/", "https://" + strings.Repeat("a", 3000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if ValidateURL(raw, true) != nil && ValidateURL(raw, false) == nil {
			t.Fatalf("%q refused with private targets allowed but accepted without", raw)
		}
		if ValidateURL(raw, false) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || len(raw) > 2048 {
			t.Fatalf("accepted %q", raw)
		}
		if a, err := netip.ParseAddr(u.Hostname()); err == nil && netguard.BlockReason(a) != "" {
			t.Fatalf("accepted %q, a %s address", raw, netguard.BlockReason(a))
		}
		if h := strings.TrimSuffix(strings.ToLower(u.Hostname()), "."); h == "localhost" || strings.HasSuffix(h, ".localhost") {
			t.Fatalf("accepted %q", raw)
		}
	})
}
