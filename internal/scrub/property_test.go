package scrub_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/veil-privacy/veil/internal/scrub"
)

// checkDoc asserts the properties every JSON/rrweb result must have: valid
// JSON, idempotent, bounded growth.
func checkDoc(t *testing.T, s *scrub.Scrubber, in []byte, rrweb bool) {
	t.Helper()
	run := s.JSON
	if rrweb {
		run = s.RRWeb
	}
	out, rep, err := run(in)
	if err != nil {
		if json.Valid(in) && utf8.Valid(in) && !errors.Is(err, scrub.ErrTooDeep) && !errors.Is(err, scrub.ErrRRWebShape) && !errors.Is(err, scrub.ErrTooLarge) {
			t.Fatalf("valid input rejected: %v\n%q", err, in)
		}
		if out != nil {
			t.Fatalf("output returned with error %v", err)
		}
		return
	}
	if !json.Valid(in) || !utf8.Valid(in) {
		t.Fatalf("invalid input accepted:\n%q", in)
	}
	if !json.Valid(out) {
		t.Fatalf("invalid JSON out:\n in: %q\nout: %q", in, out)
	}
	if max := s.MaxOutputLen(len(in), rep); len(out) > max {
		t.Fatalf("output %d bytes > bound %d (report %v)\n in: %q\nout: %q", len(out), max, rep, in, out)
	}
	again, rep2, err := run(out)
	if err != nil {
		t.Fatalf("scrubbing output failed: %v\n%q", err, out)
	}
	if !bytes.Equal(again, out) {
		t.Fatalf("not idempotent:\n in: %q\nout: %q\n2nd: %q (report %v)", in, out, again, rep2)
	}
}

func TestProperties_Corpus(t *testing.T) {
	for _, r := range []scrub.Rules{{}, {Replacement: "*"}, {CustomRules: []scrub.CustomRule{{Name: "ord", Pattern: `ORD-\d+`}, {Name: "filt", Pattern: `Filt`}}}} {
		s := mustScrubber(t, r)
		for i, sm := range buildCorpus(7, 2) {
			if i%3 != 0 {
				continue
			}
			checkDoc(t, s, sm.msg, sm.rrweb)
		}
	}
}

// TestProperties_Encodings plants every positive in text that is then
// \u-escaped, percent-encoded or form-encoded, and checks that the value
// does not survive in any decoding of the output.
func TestProperties_Encodings(t *testing.T) {
	s := mustScrubber(t, scrub.Rules{})
	g := newGen(99)
	for _, kind := range positiveKinds {
		for i := 0; i < 20; i++ {
			v, prefix := g.positive(kind)
			suffix := ""
			if kind == "url_credentials" {
				suffix = "@db.example.com/app"
			}
			text := "note " + prefix + v + suffix + " end"
			if kind == "sensitive_field" {
				text = "password=" + v
			}
			variants := map[string][]byte{
				"unicode":    []byte(`{"m":` + escapeAll(text) + `}`),
				"query":      mustJSON(map[string]string{"u": "https://x.example/?q=" + url.QueryEscape(text)}),
				"path":       mustJSON(map[string]string{"u": "https://x.example/" + url.PathEscape(text)}),
				"double":     mustJSON(map[string]string{"u": "https://x.example/?q=" + url.QueryEscape(url.QueryEscape(text))}),
				"embedded":   mustJSON(map[string]string{"body": string(mustJSON(map[string]string{"m": text}))}),
				"esc+embed":  []byte(`{"body":` + escapeAll(string(mustJSON(map[string]string{"m": text}))) + `}`),
				"text-field": mustJSON(map[string]string{"m": text}),
			}
			for name, in := range variants {
				out, _, err := s.JSON(in)
				if err != nil {
					t.Fatalf("%s/%s: %v", kind, name, err)
				}
				strs := allStrings(out)
				for _, x := range append([]string(nil), strs...) {
					if u, err := url.QueryUnescape(x); err == nil {
						strs = append(strs, u)
					}
				}
				if c := core(kind, v); containsAny(strs, c) {
					t.Errorf("%s survived %s encoding:\n in: %s\nout: %s", kind, name, in, out)
				}
				checkDoc(t, s, in, false)
			}
		}
	}
}

func TestProperties_TextMask(t *testing.T) {
	s := mustScrubber(t, scrub.Rules{})
	for _, sm := range buildCorpus(11, 1) {
		in := string(sm.msg)
		out, rep := s.MaskText(in)
		if utf8.RuneCountInString(out) != utf8.RuneCountInString(in) {
			t.Fatalf("MaskText changed length:\n in: %s\nout: %s", in, out)
		}
		if again, _ := s.MaskText(out); again != out {
			t.Fatalf("MaskText not idempotent:\n%s\n%s", out, again)
		}
		tout, trep := s.Text(in)
		if len(tout) > len(in)+trep.Total()*len(scrub.DefaultReplacement) {
			t.Fatalf("Text grew beyond bound")
		}
		_ = rep
	}
}

func TestBadInput(t *testing.T) {
	s := mustScrubber(t, scrub.Rules{})
	bad := map[string]string{
		"truncated":     `[{"type":2,"data":{"node":{"type":3,"textContent":"bob@example.com"`,
		"not array":     `{"type":2}`,
		"bad utf8":      "[{\"type\":3,\"data\":{\"text\":\"\xc3\x28 bob@example.com\"}}]",
		"control char":  "[\"a\x01b\"]",
		"nested string": `["` + strings.Repeat(`\"`, 3) + `]`,
		"deep":          strings.Repeat(`[`, 1000) + strings.Repeat(`]`, 1000),
		"empty":         ``,
		"bare text":     `bob@example.com`,
	}
	for name, in := range bad {
		out, _, err := s.RRWeb([]byte(in))
		if err == nil || out != nil {
			t.Errorf("%s: err=%v out=%q", name, err, out)
		}
	}
	// Malformed events inside a valid array are scrubbed conservatively.
	in := `[1,"bob@example.com",{"type":"2","data":"x 4111111111111111"},{"type":3,"data":{"source":5,"id":"x","text":"bob@example.com"}},{"data":{"node":[{"textContent":"bob@example.com"}]}}]`
	out, rep, err := s.RRWeb([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("bob@example.com")) || bytes.Contains(out, []byte("4111111111111111")) || rep.Total() != 4 {
		t.Errorf("malformed events not scrubbed: %s (%v)", out, rep)
	}
	// Huge strings are linear, not rejected.
	big := strings.Repeat("word 4111 1111 1111 1111 ", 40000)
	bout, brep := s.MaskText(big)
	if brep[scrub.DetCard] != 40000 || len(bout) != len(big) {
		t.Errorf("huge string: %v", brep)
	}
}
