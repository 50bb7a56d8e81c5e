package scrub

import (
	"math/rand/v2"
	"testing"
)

// eventRef is the definition the classifier implements: a trigger byte,
// or a byte that may start a check as a word's first byte.
func eventRef(b []byte, p int) bool {
	switch byteClass[b[p]] {
	case cPlus, cParen, cAt, cColon, cEq, cDash:
		return true
	}
	first := isDigit(b[p]) || wordStarts[b[p]]
	return first && (p == 0 || !wordByte[b[p-1]])
}

func checkMasks(t *testing.T, sc *scanner, b []byte) {
	t.Helper()
	pct := sc.eventMasks(b)
	if want := hasPctOrPlus(b); pct != want {
		t.Fatalf("%q: pct/plus %v, want %v", b, pct, want)
	}
	if len(sc.ev) != (len(b)+63)/64 {
		t.Fatalf("%d bytes: %d mask words", len(b), len(sc.ev))
	}
	for p := 0; p < len(sc.ev)*64; p++ {
		got := sc.ev[p>>6]>>(p&63)&1 != 0
		want := p < len(b) && eventRef(b, p)
		if got != want {
			t.Fatalf("%q (len %d): byte %d marked %v, want %v", b, len(b), p, got, want)
		}
	}
}

func TestEventMasks(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 classifier on this machine or build")
	}
	sc := newScanner(MustNew(Rules{}).c)
	var all []byte
	for c := 0; c < 256; c++ { // every byte after a word byte and after a separator
		all = append(all, byte(c), 'a', byte(c), ' ', byte(c))
	}
	for n := 1; n <= len(all); n++ {
		checkMasks(t, sc, all[:n])
		checkMasks(t, sc, all[len(all)-n:])
	}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "aAbBsSwWxXzZ09_ +(-@:=%.,\"\\\x00\x80\xff"
	for range 20000 {
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		if len(b) > 0 {
			checkMasks(t, sc, b)
		}
	}
}
