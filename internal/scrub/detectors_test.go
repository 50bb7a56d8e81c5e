package scrub_test

import (
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/scrub"
)

func mustScrubber(tb testing.TB, r scrub.Rules) *scrub.Scrubber {
	tb.Helper()
	s, err := scrub.New(r)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return s
}

// detectorCase is one text with what must be removed (secret) or kept.
type detectorCase struct {
	name   string
	in     string
	secret string // must not survive; "" for a hard negative
	det    string // detector expected to fire (positives)
}

func TestDetectors(t *testing.T) {
	s := mustScrubber(t, scrub.Rules{})
	tests := []detectorCase{
		// Cards
		{"visa plain", "card 4111111111111111 ok", "4111111111111111", scrub.DetCard},
		{"visa spaces", "pay 4242 4242 4242 4242 now", "4242 4242 4242 4242", scrub.DetCard},
		{"mc dashes", "5555-5555-5555-4444", "5555-5555-5555-4444", scrub.DetCard},
		{"amex 4-6-5", "amex 3782 822463 10005.", "3782 822463 10005", scrub.DetCard},
		{"discover", "6011111111111117", "6011111111111117", scrub.DetCard},
		{"mc 2-series", "2223003122003222", "2223003122003222", scrub.DetCard},
		{"card with expiry", "4111 1111 1111 1111 12/29", "4111 1111 1111 1111", scrub.DetCard},
		{"card with cvv", "4111 1111 1111 1111 123", "4111 1111 1111 1111", scrub.DetCard},
		{"non-luhn 16", "id 4111111111111112", "", ""},
		{"luhn no issuer", "ref 1234567812345670", "", ""},
		{"ms timestamp", "ts=1712345678901", "", ""},
		{"tracking 22", "9400 1118 9922 3345 6789 01", "", ""},
		{"price", "$1,299.99", "", ""},
		{"visa bad length", "4111111111111111111111", "", ""},
		// SSN
		{"ssn dash", "SSN 123-45-6789.", "123-45-6789", scrub.DetSSN},
		{"ssn space", "ssn is 536 22 1234", "536 22 1234", scrub.DetSSN},
		{"ssn area 000", "000-12-3456", "", ""},
		{"ssn area 666", "666-12-3456", "", ""},
		{"ssn area 9xx", "912-12-3456", "", ""},
		{"ssn group 00", "123-00-4567", "", ""},
		{"ssn voided", "078-05-1120", "", ""},
		{"date", "2024-01-15", "", ""},
		{"ssn in longer", "123-45-6789-01", "", ""},
		// IBAN
		{"iban de", "IBAN DE89370400440532013000 ok", "DE89370400440532013000", scrub.DetIBAN},
		{"iban grouped", "GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32", scrub.DetIBAN},
		{"iban bad check", "DE89370400440532013001", "", ""},
		{"iban bad len", "DE8937040044053201300", "", ""},
		// Email
		{"email", "mail john.doe+tag@example.co.uk now", "john.doe+tag@example.co.uk", scrub.DetEmail},
		{"email url-encoded", "?e=john%40example.com&x=1", "john%40example.com", scrub.DetEmail},
		{"email double-encoded", "?e=john%2540example.com", "john%2540example.com", scrub.DetEmail},
		{"retina image", "logo@2x.png", "", ""},
		{"npm scope", "@babel/core@7.24.0", "", ""},
		{"css media", "@media (max-width: 600px)", "", ""},
		// Phone
		{"e164", "call +14155552671", "+14155552671", scrub.DetPhone},
		{"e164 spaced", "tel +44 20 7946 0958.", "+44 20 7946 0958", scrub.DetPhone},
		{"nanp parens", "(415) 555-2671", "(415) 555-2671", scrub.DetPhone},
		{"nanp dashes", "call 415-555-2671 now", "415-555-2671", scrub.DetPhone},
		{"nanp 1-800", "1-800-555-0199", "1-800-555-0199", scrub.DetPhone},
		{"uk national", "ring 020 7946 0958", "020 7946 0958", scrub.DetPhone},
		{"fr national", "01 23 45 67 89", "01 23 45 67 89", scrub.DetPhone},
		{"plain 10 digits", "order 4155552671", "", ""},
		{"product code", "SKU 415-555-26719", "", ""},
		{"bad e164", "+0123456789", "", ""},
		// IP
		{"ipv4", "from 203.0.113.42:443", "203.0.113.42", scrub.DetIPv4},
		{"ipv4 network", "10.0.0.0/8", "", ""},
		{"ua version", "Chrome/124.0.6367.91", "", ""},
		{"version 3 parts", "v1.2.3 and 10.15.7", "", ""},
		{"ipv6", "addr 2001:db8:85a3::8a2e:370:7334 x", "2001:db8:85a3::8a2e:370:7334", scrub.DetIPv6},
		{"ipv6 link local", "fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a", scrub.DetIPv6},
		{"time", "at 12:30:45", "", ""},
		{"css pseudo", "a::before li::marker", "", ""},
		{"mac", "00:1A:2B:3C:4D:5E", "", ""},
		// Tokens
		{"jwt", "t=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", scrub.DetJWT},
		{"bearer", "Authorization: Bearer abc123def456ghi", "abc123def456ghi", scrub.DetField},
		{"bearer free", "sent Bearer abc123def456ghi", "abc123def456ghi", scrub.DetAuth},
		{"basic", "hdr Basic dXNlcjpwYXNzd29yZA== end", "dXNlcjpwYXNzd29yZA==", scrub.DetAuth},
		{"basic english", "Basic information here", "", ""},
		{"bearer english", "the Bearer of news", "", ""},
		{"url creds", "postgres://admin:s3cr3t@db.internal:5432/x", "admin:s3cr3t", scrub.DetURLCredentials},
		{"aws key id", "key AKIAIOSFODNN7EXAMPLE.", "AKIAIOSFODNN7EXAMPLE", scrub.DetAWSAccessKey},
		{"aws secret", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", scrub.DetField + "|" + scrub.DetAWSSecretKey},
		{"aws secret free", "AWS creds wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", scrub.DetAWSSecretKey},
		{"sha1 alone", "commit 3f786850e387550fdab836ed7e6dc881de23001b", "", ""},
		{"github", "ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R", "ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R", scrub.DetGitHub},
		{"github pat", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTU", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTU", scrub.DetGitHub},
		{"gitlab", "glpat-x1Y2z3A4b5C6d7E8f9G0", "glpat-x1Y2z3A4b5C6d7E8f9G0", scrub.DetGitLab},
		{"slack", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", scrub.DetSlack},
		{"slack webhook", "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdEFGHijklMNOPqrstUVWX", "T0123ABCD/B0123ABCD/abcdEFGHijklMNOPqrstUVWX", scrub.DetSlack},
		{"stripe", "sk_live_51H8abcDEF0123456789xyzXYZ", "sk_live_51H8abcDEF0123456789xyzXYZ", scrub.DetStripe},
		{"google", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", scrub.DetGoogleAPIKey},
		{"openai", "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90", "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90", scrub.DetOpenAI},
		{"sk-learn", "we use sk-learn-and-friends here", "", ""},
		{"pem", "k=-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1\n-----END RSA PRIVATE KEY-----\nrest", "MIIEpAIBAAKCAQEA1", scrub.DetPrivateKey},
		{"pem cert", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "", ""},
		// Sensitive fields in text
		{"query password", "/login?user=bob&password=hunter2&x=1", "hunter2", scrub.DetField},
		{"form token", "csrf_token=abcdef&next=%2F", "abcdef", scrub.DetField},
		{"json in text", `{"apiKey": "zzz-top"}`, "zzz-top", scrub.DetField},
		{"cookie header", "Cookie: sid=abc; theme=dark", "sid=abc; theme=dark", scrub.DetField},
		{"fragment token", "#access_token=tok123&state=x", "tok123", scrub.DetField},
		{"not sensitive", "color: red; cardinality=5; discard=yes", "", ""},
		{"uuid", "550e8400-e29b-41d4-a716-446655440000", "", ""},
		{"uuid digits", "12345678-1234-1234-1234-123456789012", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, rep := s.Text(tc.in)
			if tc.secret == "" {
				if out != tc.in || rep.Total() != 0 {
					t.Errorf("hard negative altered:\n in: %q\nout: %q\nreport: %v", tc.in, out, rep)
				}
				return
			}
			if strings.Contains(out, tc.secret) {
				t.Errorf("secret survived:\n in: %q\nout: %q", tc.in, out)
			}
			fired := false
			for _, d := range strings.Split(tc.det, "|") {
				fired = fired || rep[d] > 0
			}
			if !fired {
				t.Errorf("detector %s did not fire: report %v, out %q", tc.det, rep, out)
			}
			mout, _ := s.MaskText(tc.in)
			if len([]rune(mout)) != len([]rune(tc.in)) {
				t.Errorf("MaskText changed length: %q -> %q", tc.in, mout)
			}
		})
	}
}
