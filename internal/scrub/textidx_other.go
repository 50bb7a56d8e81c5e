//go:build !amd64 || purego

package scrub

// Without AVX2 assembly the scanner uses its byte loop (scanBytes).
const hasAVX2 = false

func eventMasksAVX2(b *byte, n int, out *uint64) bool { panic("scrub: no AVX2 text classifier") }
