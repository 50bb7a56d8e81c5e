//go:build !purego

package scrub

// eventMasksAVX2 writes the event masks of b[:n] to out, one bit per byte
// in (n+63)/64 words, and reports whether b has a '%' or '+'. It never
// reads outside b[:n] (textidx_amd64.s).
//
//go:noescape
func eventMasksAVX2(b *byte, n int, out *uint64) bool

func cpuidex(leaf, sub uint32) (a, b, c, d uint32)

func xgetbv0() uint32

// hasAVX2 reports whether the CPU has AVX2 and the OS saves YMM registers.
var hasAVX2 = func() bool {
	if maxLeaf, _, _, _ := cpuidex(0, 0); maxLeaf < 7 {
		return false
	}
	const osxsave, avx = 1 << 27, 1 << 28
	if _, _, c, _ := cpuidex(1, 0); c&osxsave == 0 || c&avx == 0 || xgetbv0()&6 != 6 {
		return false
	}
	_, b, _, _ := cpuidex(7, 0)
	return b&(1<<5) != 0
}()
