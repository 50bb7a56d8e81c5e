//go:build !(amd64 || arm64 || ppc64le || riscv64 || loong64 || wasm)

package scrub

import "encoding/binary"

// load64 returns the eight bytes at b[i:] as a little-endian word; see
// load_unaligned.go.
func load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }

func load16(b []byte, i int) uint16 { return binary.LittleEndian.Uint16(b[i:]) }

func load8(b []byte, i int) byte { return b[i] }
