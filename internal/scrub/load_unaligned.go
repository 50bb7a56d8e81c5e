//go:build amd64 || arm64 || ppc64le || riscv64 || loong64 || wasm

package scrub

import "unsafe"

// load64 returns the eight bytes at b[i:] as a little-endian word. The
// caller guarantees i+8 <= len(b). On little-endian machines that allow
// unaligned loads this is one instruction, without the bounds checks of
// binary.LittleEndian.Uint64(b[i:]), which cost a third of the string
// scanning loop.
func load64(b []byte, i int) uint64 {
	return *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}

// load16 is load64 for two bytes; the caller guarantees i+2 <= len(b).
func load16(b []byte, i int) uint16 {
	return *(*uint16)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}

// load8 returns b[i] without a bounds check; the caller guarantees
// i < len(b).
func load8(b []byte, i int) byte {
	return *(*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}
