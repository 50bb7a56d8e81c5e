//go:build !(amd64 || arm64 || ppc64le || riscv64 || loong64 || wasm)

package scrub

import "encoding/binary"

// load64 returns the eight bytes at b[i:] as a little-endian word; see
// load_unaligned.go.
func load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }
