//go:build !purego

package scrub

import "golang.org/x/sys/cpu"

// eventMasksAVX2 writes the event masks of b[:n] to out, one bit per byte
// in (n+63)/64 words, and reports whether b has a '%' or '+'. It never
// reads outside b[:n] (textidx_amd64.s).
//
//go:noescape
func eventMasksAVX2(b *byte, n int, out *uint64) bool

// hasAVX2 reports whether the CPU has AVX2 and the OS saves YMM registers.
var hasAVX2 = cpu.X86.HasAVX2
