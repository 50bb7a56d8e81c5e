package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
)

// KeySize is the size in bytes of every key: master, data and session.
const KeySize = 32

// idSize is the length in bytes of a key ID (hex-encoded to twice that).
const idSize = 8

// HKDF labels, one per purpose; see the package documentation.
const (
	labelWrap  = "veil/v1/wrap"
	labelSeal  = "veil/v1/seal"
	labelIndex = "veil/v1/blind-index"
	labelID    = "veil/v1/key-id"
)

// subkey derives the 32-byte key for label from raw.
func subkey(raw []byte, label string) []byte {
	k, err := hkdf.Key(sha256.New, raw, nil, label, KeySize)
	if err != nil {
		panic("keyring: hkdf: " + err.Error()) // only for impossible lengths
	}
	return k
}

func newGCM(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("keyring: aes: " + err.Error()) // key is always 32 bytes
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("keyring: gcm: " + err.Error())
	}
	return aead
}

// wrapper is the part shared by Master and DataKey: a key that wraps other
// keys, named by its ID in the wrapped format.
type wrapper struct {
	kind byte          // kindMaster or kindData
	id   [idSize]byte  // ID(K)
	wrap cipher.AEAD   // keyed with the "wrap" subkey
	raw  [KeySize]byte // the key itself; only wrapped or exported, never logged
}

func newWrapper(kind byte, raw []byte) wrapper {
	w := wrapper{kind: kind, wrap: newGCM(subkey(raw, labelWrap))}
	copy(w.raw[:], raw)
	copy(w.id[:], subkey(raw, labelID))
	return w
}

// ID returns the key's fingerprint: 16 hex digits, safe to log and store.
func (w *wrapper) ID() string { return hex.EncodeToString(w.id[:]) }

// DataKey is a project data key or a session key: it seals objects, wraps
// session keys and computes blind indexes. It is safe for concurrent use.
// Its bytes never print: every fmt verb and slog show "[redacted]".
type DataKey struct {
	wrapper
	seal  cipher.AEAD
	index []byte
}

// NewDataKey returns a new random key.
func NewDataKey() *DataKey {
	var raw [KeySize]byte
	rand.Read(raw[:]) // never fails (Go 1.24+ crashes the program instead)
	return newDataKey(raw[:])
}

func newDataKey(raw []byte) *DataKey {
	return &DataKey{
		wrapper: newWrapper(kindData, raw),
		seal:    newGCM(subkey(raw, labelSeal)),
		index:   subkey(raw, labelIndex),
	}
}

// BlindIndex returns a keyed, deterministic token for value, to store and
// search instead of the value itself (a user ID, an email address for
// erasure). kind separates namespaces ("user_id", "email"), so equal values
// of different kinds do not match. The same key, kind and value always give
// the same token; another project's key gives an unrelated one. Callers
// normalise value first (for example lower-case an email address). The
// token is 32 hex digits (128 bits of HMAC-SHA256).
func (dk *DataKey) BlindIndex(kind, value string) string {
	mac := hmac.New(sha256.New, dk.index)
	mac.Write(binary.AppendUvarint(nil, uint64(len(kind))))
	mac.Write([]byte(kind))
	mac.Write([]byte(value))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// String returns "[redacted]".
func (dk *DataKey) String() string { return "[redacted]" }

// GoString returns "[redacted]", for %#v.
func (dk *DataKey) GoString() string { return "[redacted]" }

// Format prints "[redacted]" for every verb, so not even %x or %d can
// show the key.
func (dk *DataKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, "[redacted]") }

// LogValue implements slog.LogValuer: the key ID only.
func (dk *DataKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key_id", dk.ID()), slog.String("key", "[redacted]"))
}
