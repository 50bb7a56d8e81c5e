package writekey_test

import (
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/writekey"
)

func TestGenerateParseVerify(t *testing.T) {
	for _, kind := range []veil.KeyKind{veil.KeyBrowser, veil.KeyServer} {
		key, prefix, hash, err := writekey.Generate(kind)
		if err != nil {
			t.Fatal(err)
		}
		gotKind, gotPrefix, err := writekey.Parse(key)
		if err != nil || gotKind != kind || gotPrefix != prefix {
			t.Fatalf("Parse(%s key) = %v %q %v", kind, gotKind, gotPrefix, err)
		}
		if !writekey.Verify(key, hash) {
			t.Fatal("Verify rejected the generated key")
		}
		if writekey.Verify(key[:len(key)-1]+"0", hash) && !strings.HasSuffix(key, "0") {
			t.Fatal("Verify accepted a different key")
		}
		other, _, _, _ := writekey.Generate(kind)
		if writekey.Prefix(other) == prefix {
			t.Fatal("two keys share a prefix")
		}
	}
}

func TestParse_Rejects(t *testing.T) {
	for _, key := range []string{"", "veil_wk_", "veil_xx_0123456789abcdefghjk", "veil_wk_short", "veil_sk_ILLEGAL!!ILLEGAL!!ILLEGAL", "sk_live_0123456789abcdefghjkmnpq"} {
		if _, _, err := writekey.Parse(key); err == nil || veil.ErrorCode(err) != veil.EUNAUTHORIZED {
			t.Errorf("Parse(%q) = %v, want unauthorized", key, err)
		} else if key != "" && strings.Contains(err.Error(), key) {
			t.Errorf("error echoes the key: %v", err)
		}
	}
}

func TestNormalizeOrigin(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: "https://App.Example.com", want: "https://app.example.com"},
		{in: "https://app.example.com/", want: "https://app.example.com"},
		{in: "https://app.example.com:443", want: "https://app.example.com"},
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{in: "https://*.example.com", want: "https://*.example.com"},
		{in: "app.example.com", wantErr: "scheme://host"},
		{in: "ftp://example.com", wantErr: "http or https"},
		{in: "https://example.com/path", wantErr: "path"},
		{in: "https://a.*.example.com", wantErr: "first label"},
		{in: "https://*.com", wantErr: "too broad"},
		{in: "http://[::1]:80", want: "http://[::1]"},
		{in: "https://*.10.0.0.1"}, // wildcard over an IP: must fail
	}
	for _, tt := range tests {
		got, err := writekey.NormalizeOrigin(tt.in)
		if tt.in == "https://*.10.0.0.1" {
			if err == nil {
				t.Errorf("wildcard over an IP accepted: %q", got)
			}
			continue
		}
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NormalizeOrigin(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestMatchOrigin(t *testing.T) {
	allowed := []string{"https://app.example.com", "https://*.shop.example", "http://localhost:3000"}
	tests := []struct {
		origin string
		want   bool
	}{
		{"https://app.example.com", true},
		{"https://APP.example.com:443", true},
		{"http://app.example.com", false},       // scheme
		{"https://app.example.com:8443", false}, // port
		{"https://example.com", false},
		{"https://app.example.com.evil.net", false},
		{"https://evil-app.example.com", false},
		{"https://eu.shop.example", true},
		{"https://a.b.shop.example", true},
		{"https://shop.example", false}, // wildcard needs a subdomain
		{"https://evilshop.example", false},
		{"http://eu.shop.example", false},
		{"http://localhost:3000", true},
		{"http://localhost:3001", false},
		{"null", false},
		{"", false},
		{"https://*.shop.example", false}, // a literal wildcard origin is never sent by browsers
	}
	for _, tt := range tests {
		if got := writekey.MatchOrigin(tt.origin, allowed); got != tt.want {
			t.Errorf("MatchOrigin(%q) = %v, want %v", tt.origin, got, tt.want)
		}
	}
}

func FuzzNormalizeOrigin(f *testing.F) {
	for _, s := range []string{"https://a.example.com", "http://[::1]:80", "https://*.x.y", "null", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := writekey.NormalizeOrigin(s)
		if err != nil {
			return
		}
		// Canonical form is a fixed point.
		if n2, err := writekey.NormalizeOrigin(n); err != nil || n2 != n {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", s, n, n2, err)
		}
	})
}
