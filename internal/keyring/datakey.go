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

// hidden keeps key material out of reach of reflection. The Format
// methods cover a key printed directly or as an exported field, but fmt
// walks unexported fields by reflection (and, for a bad verb, dereferences
// pointers, AES key schedules included). It prints a func value only as its
// address, whatever the verb, so secrets live behind one.
type hidden[T any] func() *T

func hide[T any](v *T) hidden[T] { return func() *T { return v } }

// wrapper is the part shared by Master and DataKey: a key that wraps other
// keys, named by its ID in the wrapped format.
type wrapper struct {
	kind byte         // kindMaster or kindData
	id   [idSize]byte // ID(K), not secret
	sec  hidden[wrapperSecrets]
}

type wrapperSecrets struct {
	raw  [KeySize]byte // the key itself: only wrapped or exported
	wrap cipher.AEAD   // keyed with the "wrap" subkey
}

func newWrapper(kind byte, raw []byte) wrapper {
	s := &wrapperSecrets{wrap: newGCM(subkey(raw, labelWrap))}
	copy(s.raw[:], raw)
	w := wrapper{kind: kind, sec: hide(s)}
	copy(w.id[:], subkey(raw, labelID))
	return w
}

// ID returns the key's fingerprint: 16 hex digits, safe to log and store.
func (w wrapper) ID() string { return hex.EncodeToString(w.id[:]) }

// DataKey is a project data key or a session key: it seals objects, wraps
// session keys and computes blind indexes. It is safe for concurrent use.
// Its bytes never print: every fmt verb and slog show "[redacted]". Make
// one with NewDataKey or an Unwrap method; the zero value is not usable.
type DataKey struct {
	wrapper
	dsec hidden[dataSecrets]
}

type dataSecrets struct {
	seal  cipher.AEAD // keyed with the "seal" subkey
	index []byte      // the "blind-index" subkey
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
		dsec: hide(&dataSecrets{
			seal:  newGCM(subkey(raw, labelSeal)),
			index: subkey(raw, labelIndex),
		}),
	}
}

// IndexCustomEvent is the BlindIndex kind of custom event names (rrweb
// custom events, which the SDK adds for every track call): ingest indexes
// them per session and the session list searches them.
const IndexCustomEvent = "custom_event"

// BlindIndex returns a keyed, deterministic token for value, to store and
// search instead of the value itself (a user ID, an email address for
// erasure). kind separates namespaces ("user_id", "email"), so equal values
// of different kinds do not match. The same key, kind and value always give
// the same token; another project's key gives an unrelated one. Callers
// normalise value first (for example lower-case an email address). The
// token is 32 hex digits (128 bits of HMAC-SHA256).
func (dk *DataKey) BlindIndex(kind, value string) string {
	mac := hmac.New(sha256.New, dk.dsec().index)
	mac.Write(binary.AppendUvarint(nil, uint64(len(kind))))
	mac.Write([]byte(kind))
	mac.Write([]byte(value))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// String returns "[redacted]".
func (dk DataKey) String() string { return "[redacted]" }

// GoString returns "[redacted]", for %#v.
func (dk DataKey) GoString() string { return "[redacted]" }

// Format prints "[redacted]" for every verb, so not even %x or %d can
// show the key.
// Value receivers, so a DataKey copied by value is covered too.
func (dk DataKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, "[redacted]") }

// LogValue implements slog.LogValuer: the key ID only.
func (dk DataKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key_id", dk.ID()), slog.String("key", "[redacted]"))
}
