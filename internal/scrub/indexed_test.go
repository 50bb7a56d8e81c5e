package scrub_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/veil-privacy/veil/internal/scrub"
)

// indexedRuleSets are the rule sets the indexed and byte-loop scans are
// compared under: defaults, mask mode, custom rules with extra and safe
// fields, and detectors turned off.
var indexedRuleSets = []scrub.Rules{
	{},
	{Replacement: "*"},
	{CustomRules: []scrub.CustomRule{{Name: "ord", Pattern: `ORD-\d{4}`}}, SensitiveFields: []string{"note"}, SafeFields: []string{"context.page", "sku"}},
	{Disabled: []string{"ipv4", "ipv6", "phone", "email"}},
}

// pairOf returns two scrubbers for rules: the default scan (indexed where
// the CPU has AVX2) and the byte loop.
func pairOf(t testing.TB, r scrub.Rules) (idx, byteLoop *scrub.Scrubber) {
	t.Helper()
	a, err := scrub.New(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := scrub.New(r, scrub.WithByteScan())
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// sameScrub asserts that both scrubbers give byte-identical output, equal
// reports and the same error for in, as JSON, as rrweb and as text.
func sameScrub(t testing.TB, a, b *scrub.Scrubber, in []byte) {
	t.Helper()
	for _, rr := range []bool{false, true} {
		runA, runB := a.JSON, b.JSON
		if rr {
			runA, runB = a.RRWeb, b.RRWeb
		}
		oa, ra, ea := runA(in)
		ob, rb, eb := runB(in)
		if !bytes.Equal(oa, ob) || ra.String() != rb.String() || (ea == nil) != (eb == nil) || ea != nil && ea.Error() != eb.Error() {
			t.Fatalf("rrweb=%v: indexed and byte-loop scans differ\n in: %q\nidx: %q %v %v\nbyt: %q %v %v", rr, in, oa, ra, ea, ob, rb, eb)
		}
	}
	ta, ra := a.Text(string(in))
	tb, rb := b.Text(string(in))
	ma, _ := a.MaskText(string(in))
	mb, _ := b.MaskText(string(in))
	if ta != tb || ra.String() != rb.String() || ma != mb {
		t.Fatalf("Text: indexed and byte-loop scans differ\n in: %q\nidx: %q %q\nbyt: %q %q", in, ta, ma, tb, mb)
	}
}

// mutate returns b with a few random byte edits, biased to the bytes the
// classifier cares about.
func mutate(r *rand.Rand, b []byte) []byte {
	const alphabet = "aAbBeEgGhHrRsSwWxXkKyY019_ -+(@:=%.\"\\/\x00\x80\xc3\xa9"
	out := append([]byte(nil), b...)
	for range 1 + r.IntN(3) {
		c := alphabet[r.IntN(len(alphabet))]
		switch p := r.IntN(len(out) + 1); {
		case p == len(out) || r.IntN(3) == 0:
			out = append(out[:p], append([]byte{c}, out[p:]...)...)
		case r.IntN(2) == 0:
			out[p] = c
		default:
			out = append(out[:p], out[p+1:]...)
		}
	}
	return out
}

// TestIndexedScanEqual compares the indexed scan (AVX2 classifier) with
// the byte loop on the corpus, the benchmark inputs and mutations of them.
func TestIndexedScanEqual(t *testing.T) {
	if !scrub.IndexedScan {
		t.Log("no indexed scan in this build or on this CPU: both sides use the byte loop")
	}
	var docs [][]byte
	for _, seed := range []uint64{20240601, 7, 99} {
		for _, sm := range buildCorpus(seed, 2) {
			docs = append(docs, sm.msg)
		}
	}
	docs = append(docs, bigSnapshot(300<<10), eventBatch(100), denseText(64<<10))
	r := rand.New(rand.NewPCG(4, 4))
	n := len(docs)
	for k := 0; k < n; k++ {
		if len(docs[k]) < 5000 {
			docs = append(docs, mutate(r, docs[k]), mutate(r, docs[k]))
		}
	}
	for _, rules := range indexedRuleSets {
		a, b := pairOf(t, rules)
		for _, d := range docs {
			sameScrub(t, a, b, d)
		}
	}
	t.Logf("%d documents × %d rule sets", len(docs), len(indexedRuleSets))
}
