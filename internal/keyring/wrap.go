package keyring

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// Wrapped key format; see the package documentation.
const (
	wrapVersion = 0x01
	kindMaster  = 'M' // wrapped by a master key
	kindData    = 'D' // wrapped by a data key

	nonceSize     = 12
	tagSize       = 16
	wrapHeaderLen = 1 + 1 + idSize
	// WrappedSize is the length of every wrapped key.
	WrappedSize = wrapHeaderLen + nonceSize + KeySize + tagSize
)

func kindName(kind byte) string {
	switch kind {
	case kindMaster:
		return "master key"
	case kindData:
		return "data key"
	}
	return fmt.Sprintf("unknown key kind 0x%02x", kind)
}

// wrapKey seals dk's bytes under w, bound to aad.
func (w *wrapper) wrapKey(dk *DataKey, aad AAD) []byte {
	out := make([]byte, wrapHeaderLen+nonceSize, WrappedSize)
	out[0], out[1] = wrapVersion, w.kind
	copy(out[2:], w.id[:])
	nonce := out[wrapHeaderLen:]
	rand.Read(nonce)
	ad := aad.appendTo(append(make([]byte, 0, wrapHeaderLen+aad.size()), out[:wrapHeaderLen]...))
	return w.sec().wrap.Seal(out, nonce, dk.sec().raw[:], ad)
}

// parseWrapped checks the shape and version of a wrapped key and returns
// its kind and wrapper ID.
func parseWrapped(wrapped []byte) (kind byte, id []byte, err error) {
	if len(wrapped) == 0 {
		return 0, nil, fmt.Errorf("unwrap key: empty: %w", ErrTruncated)
	}
	if wrapped[0] != wrapVersion {
		return 0, nil, fmt.Errorf("unwrap key: format version 0x%02x: %w", wrapped[0], ErrUnknownVersion)
	}
	if len(wrapped) < WrappedSize {
		return 0, nil, fmt.Errorf("unwrap key: %d bytes, want %d: %w", len(wrapped), WrappedSize, ErrTruncated)
	}
	if len(wrapped) > WrappedSize {
		return 0, nil, fmt.Errorf("unwrap key: %d bytes, want %d: %w", len(wrapped), WrappedSize, ErrMalformed)
	}
	if kind = wrapped[1]; kind != kindMaster && kind != kindData {
		return 0, nil, fmt.Errorf("unwrap key: %s: %w", kindName(kind), ErrMalformed)
	}
	return kind, wrapped[2:wrapHeaderLen], nil
}

// unwrapKey opens a key wrapped by w. hint is added to a wrong-key error.
func (w *wrapper) unwrapKey(wrapped []byte, aad AAD, hint string) (*DataKey, error) {
	kind, id, err := parseWrapped(wrapped)
	if err != nil {
		return nil, err
	}
	if kind != w.kind || !bytes.Equal(id, w.id[:]) {
		return nil, fmt.Errorf("unwrap key for %s: %w: wrapped by %s %s, but the loaded %s is %s%s",
			aad, ErrWrongKey, kindName(kind), hex.EncodeToString(id), kindName(w.kind), w.ID(), hint)
	}
	ad := aad.appendTo(append(make([]byte, 0, wrapHeaderLen+aad.size()), wrapped[:wrapHeaderLen]...))
	nonce := wrapped[wrapHeaderLen : wrapHeaderLen+nonceSize]
	var raw [KeySize]byte
	defer clear(raw[:])
	if _, err := w.sec().wrap.Open(raw[:0], nonce, wrapped[wrapHeaderLen+nonceSize:], ad); err != nil {
		return nil, fmt.Errorf("unwrap key for %s with %s %s: %w", aad, kindName(w.kind), w.ID(), ErrAuth)
	}
	return newDataKey(raw[:]), nil
}

// Wrap seals a project data key under m, bound to aad (typically
// AAD{Org, Project, Kind: "project-key"}), for storage beside the project.
func (m *Master) Wrap(dk *DataKey, aad AAD) ([]byte, error) {
	return m.wrapKey(dk, aad), nil
}

// Unwrap opens a data key wrapped by Wrap with the same aad. A key wrapped
// by another master key fails with ErrWrongKey and a message naming both
// key IDs; tampering or a different aad fails with ErrAuth.
func (m *Master) Unwrap(wrapped []byte, aad AAD) (*DataKey, error) {
	return m.unwrapKey(wrapped, aad, " — wrong --master-key-file?")
}

// WrapKey seals a session key (or any other DataKey) under dk, bound to
// aad (typically AAD{Org, Project, Kind: "session-key", ID: sessionID}).
// The format is the one Master.Wrap uses.
func (dk *DataKey) WrapKey(sk *DataKey, aad AAD) ([]byte, error) {
	return dk.wrapKey(sk, aad), nil
}

// UnwrapKey opens a key wrapped by WrapKey with the same aad.
func (dk *DataKey) UnwrapKey(wrapped []byte, aad AAD) (*DataKey, error) {
	return dk.unwrapKey(wrapped, aad, "")
}

// WrappedBy returns the ID of the key that wrapped a wrapped key and
// whether that was a master key, without opening it. Rotation uses it to
// find keys still wrapped by an old master key.
func WrappedBy(wrapped []byte) (id string, byMaster bool, err error) {
	kind, rawID, err := parseWrapped(wrapped)
	if err != nil {
		return "", false, err
	}
	return hex.EncodeToString(rawID), kind == kindMaster, nil
}

// Rewrap moves a data key from master key old to master key new, for
// master key rotation: it unwraps with old and wraps with new under the
// same aad. Data sealed with the data key stays readable; nothing is
// re-encrypted. A key already wrapped by new is checked and returned
// unchanged, so an interrupted rotation can simply run again.
func Rewrap(old, new *Master, wrapped []byte, aad AAD) ([]byte, error) {
	if id, byMaster, err := WrappedBy(wrapped); err == nil && byMaster && id == new.ID() {
		if _, err := new.Unwrap(wrapped, aad); err != nil {
			return nil, fmt.Errorf("rewrap: %w", err)
		}
		return bytes.Clone(wrapped), nil
	}
	dk, err := old.Unwrap(wrapped, aad)
	if err != nil {
		return nil, fmt.Errorf("rewrap: %w", err)
	}
	return new.Wrap(dk, aad)
}
