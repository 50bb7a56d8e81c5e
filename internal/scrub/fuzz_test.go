package scrub_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/veil-privacy/veil/internal/scrub"
)

var fuzzSeeds = []string{
	`{"password":"hunter2","e":"bob@example.com","n":4111111111111111}`,
	`[{"type":2,"data":{"node":{"type":0,"childNodes":[{"type":2,"tagName":"input","attributes":{"type":"password","value":"x"},"childNodes":[],"id":2}],"id":1}},"timestamp":1}]`,
	`[{"type":3,"data":{"source":5,"id":2,"text":"4111 1111 1111 1111"}}]`,
	`[{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"level":"log","payload":["\"{\\\"token\\\":\\\"abc\\\"}\""],"trace":[]}}}]`,
	`{"body":"{\"cvv\":123,\"u\":\"https://a:b@x.example/?email=bob%40example.com\"}"}`,
	`"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc"`,
	`{"k":"\ud800\u0040x.com sk_live_abcdef0123456789"}`,
	"SSN 123-45-6789, IBAN DE89 3704 0044 0532 0130 00, +44 20 7946 0958, 2001:db8::1",
	"-----BEGIN PRIVATE KEY-----\nMIIE\n",
	"password=a&token=b;c=d%26e+f",
}

func FuzzText(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	rules := scrub.Rules{CustomRules: []scrub.CustomRule{{Name: "x", Pattern: `[A-Z]{3}\d`}}}
	s := scrub.MustNew(rules)
	sb := scrub.MustNew(rules, scrub.WithByteScan())
	f.Fuzz(func(t *testing.T, in string) {
		ob, rb := sb.Text(in)
		out, rep := s.Text(in)
		if out != ob || rep.String() != rb.String() {
			t.Fatalf("indexed and byte-loop scans differ: %q -> %q / %q", in, out, ob)
		}
		if len(out) > len(in)+rep.Total()*len(scrub.DefaultReplacement) {
			t.Fatalf("Text grew: %q -> %q", in, out)
		}
		if again, _ := s.Text(out); again != out {
			t.Fatalf("Text not idempotent:\n in: %q\nout: %q\n2nd: %q", in, out, again)
		}
		mout, _ := s.MaskText(in)
		if utf8.RuneCountInString(mout) != utf8.RuneCountInString(in) && utf8.ValidString(in) {
			t.Fatalf("MaskText changed length: %q -> %q", in, mout)
		}
		if again, _ := s.MaskText(mout); again != mout {
			t.Fatalf("MaskText not idempotent:\n in: %q\nout: %q\n2nd: %q", in, mout, again)
		}
	})
}

func fuzzDoc(f *testing.F, rrweb bool) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	s := scrub.MustNew(scrub.Rules{}, scrub.WithLimits(scrub.Limits{MaxDepth: 64}))
	sb := scrub.MustNew(scrub.Rules{}, scrub.WithLimits(scrub.Limits{MaxDepth: 64}), scrub.WithByteScan())
	f.Fuzz(func(t *testing.T, in []byte) {
		if strings.Count(string(in), "[")+strings.Count(string(in), "{") > 60 {
			return // deeper than the limit is an error, covered by tests
		}
		checkDoc(t, s, in, rrweb)
		sameScrub(t, s, sb, in) // the indexed scan and the byte loop agree
	})
}

func FuzzJSON(f *testing.F)  { fuzzDoc(f, false) }
func FuzzRRWeb(f *testing.F) { fuzzDoc(f, true) }
