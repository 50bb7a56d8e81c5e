package veil

import (
	"crypto/rand"
	"encoding/base32"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a random identifier with the given prefix, e.g. "prj_…".
// 15 random bytes (120 bits) make collisions and guessing impractical.
func NewID(prefix string) string {
	var b [15]byte
	rand.Read(b[:]) // never fails (crypto/rand panics on a broken system source)
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}
