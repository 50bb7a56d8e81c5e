package scrub

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"
)

// Tests of the fast paths against the straightforward code they replace.

// decodePctDense is decodePct as first written: the source offset of every
// view byte in a dense map.
func decodePctDense(src []byte, plus bool) ([]byte, []int) {
	var v []byte
	var m []int
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '%' && i+2 < len(src) && isHex(src[i+1]) && isHex(src[i+2]):
			v = append(v, unhex(src[i+1])<<4|unhex(src[i+2]))
			m = append(m, i)
			i += 3
			continue
		case c == '+' && plus:
			c = ' '
		}
		v = append(v, c)
		m = append(m, i)
		i++
	}
	return v, append(m, len(src))
}

func randomPct(r *rand.Rand) []byte {
	const alpha = "%%%+2540aFgZ=& x"
	b := make([]byte, r.IntN(40))
	for k := range b {
		b[k] = alpha[r.IntN(len(alpha))]
	}
	return b
}

// TestDecodePctMap checks the sparse escape list against the dense map,
// one and two levels deep.
func TestDecodePctMap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := 0; n < 50000; n++ {
		src := randomPct(r)
		for _, plus := range []bool{false, true} {
			v, esc := decodePct(src, plus, nil, nil)
			wv, wm := decodePctDense(src, plus)
			if !bytes.Equal(v, wv) {
				t.Fatalf("%q: view %q, want %q", src, v, wv)
			}
			for p := 0; p <= len(v); p++ {
				if got := mapBack(p, esc); got != wm[p] {
					t.Fatalf("%q plus=%v: offset %d maps to %d, want %d", src, plus, p, got, wm[p])
				}
			}
			// A second level, composed as scanMapped does.
			v1, esc1 := decodePct(v, !plus, nil, nil)
			_, wm1 := decodePctDense(v, !plus)
			for p := 0; p <= len(v1); p++ {
				if got, want := mapBack(mapBack(p, esc1), esc), wm[wm1[p]]; got != want {
					t.Fatalf("%q: level-2 offset %d maps to %d, want %d", src, p, got, want)
				}
			}
		}
	}
}

// TestStartPairs checks that the pair table never rejects a word start
// that startOK accepts, for every three bytes and at the end of a text.
func TestStartPairs(t *testing.T) {
	var b [3]byte
	for c0 := 0; c0 < 256; c0++ {
		for c1 := 0; c1 < 256; c1++ {
			for c2 := 0; c2 < 256; c2++ {
				b = [3]byte{byte(c0), byte(c1), byte(c2)}
				if wordStarts[c0] && startOK(b[:], 0) && !startPair(b[:], 0) {
					t.Fatalf("%q passes startOK but not startPair", b)
				}
			}
			if wordStarts[c0] && startOK(b[:2], 0) && !startPair(b[:2], 0) {
				t.Fatalf("%q passes startOK but not startPair", b[:2])
			}
		}
		if wordStarts[c0] && startOK(b[:1], 0) && !startPair(b[:1], 0) {
			t.Fatalf("%q passes startOK but not startPair", b[:1])
		}
	}
}

// TestIntMember checks the word-at-a-time integer parse against intAt on
// numbers of every length, with and without leading zeros, fractions and
// exponents, at the end of the input and not.
func TestIntMember(t *testing.T) {
	s := MustNew(Rules{})
	w := newWalker(s)
	r := rand.New(rand.NewPCG(9, 10))
	for n := 0; n < 100000; n++ {
		num := strconv.AppendUint(nil, r.Uint64()>>r.IntN(64), 10)
		if r.IntN(8) == 0 {
			num = append([]byte("0"), num...)
		}
		for _, tail := range []string{"", ",", "}", ".5", "e3", "E3", "x", "]", `,"type":2}`} {
			in := append(append([]byte(nil), num...), tail...)
			w.in, w.i = in, 0
			var v int64
			var ok bool
			walked := w.intMember(&v, &ok)
			wv, wok := intAt(in, 0)
			if v != wv || ok != wok {
				t.Fatalf("%q: %d %v, intAt %d %v", in, v, ok, wv, wok)
			}
			if walked && (w.i != len(num) || len(num) > 12 || num[0] == '0' && len(num) > 1) {
				t.Fatalf("%q: walked to %d", in, w.i)
			}
			if !walked && w.i != 0 {
				t.Fatalf("%q: moved without walking", in)
			}
		}
	}
}

// TestPeekShort checks the one-word string peek against peekString.
func TestPeekShort(t *testing.T) {
	w := newWalker(MustNew(Rules{}))
	r := rand.New(rand.NewPCG(13, 14))
	pick := []byte(`"\abcINPUT é` + "\x01\xff")
	for n := 0; n < 200000; n++ {
		b := make([]byte, r.IntN(14))
		for k := range b {
			b[k] = pick[r.IntN(len(pick))]
		}
		if r.IntN(2) == 0 && len(b) > 0 {
			b[0] = '"'
		}
		w.in, w.i = b, 0
		v, ok := w.peekShort()
		if !ok {
			continue
		}
		wv, wok := w.peekString()
		if !wok || !bytes.Equal(v, wv) {
			t.Fatalf("%q: peekShort %q, peekString %q %v", b, v, wv, wok)
		}
	}
}
