package scrub

import (
	"math/rand/v2"
	"testing"
)

// TestSWARSpecialASCII checks the short form against swarSpecial and the
// byte table on random words rich in boundary bytes.
func TestSWARSpecialASCII(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pick := []byte{0, 0x1f, 0x20, 0x21, '"', '\\', 'a', 0x7f, 0x80, 0xa0, 0xff, 0x5b, 0x23}
	for n := 0; n < 200000; n++ {
		var x uint64
		for k := 0; k < 8; k++ {
			var c byte
			if r.IntN(2) == 0 {
				c = pick[r.IntN(len(pick))]
			} else {
				c = byte(r.IntN(256))
			}
			x |= uint64(c) << (8 * k)
		}
		a, b := swarSpecial(x, false), swarSpecialASCII(x)
		if (a == 0) != (b == 0) || a != 0 && a&-a != b&-b {
			t.Fatalf("%016x: %016x vs %016x", x, a, b)
		}
		// and against the byte table
		first := -1
		for k := 0; k < 8; k++ {
			if strClass[byte(x>>(8*k))] {
				first = k
				break
			}
		}
		if first < 0 && b != 0 || first >= 0 && (b == 0 || (b&-b) != 0x80<<(8*first)) {
			t.Fatalf("%016x: first %d, mask %016x", x, first, b)
		}
	}
}
