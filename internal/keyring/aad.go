package keyring

import (
	"encoding/binary"
	"fmt"
)

// AAD binds a ciphertext to its place: the organisation and project that
// own it, what kind of object it is ("segment", "events", "session-key",
// "project-key", …) and its ID. Opening with any field different fails
// with ErrAuth. Fields are IDs, never personal data.
type AAD struct {
	Org, Project, Kind, ID string
}

const aadLabel = "veil.aad.v1"

// appendTo appends the unambiguous encoding of a: the label, then each
// field prefixed by its uvarint length.
func (a AAD) appendTo(b []byte) []byte {
	b = append(b, aadLabel...)
	for _, f := range [...]string{a.Org, a.Project, a.Kind, a.ID} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func (a AAD) size() int {
	return len(aadLabel) + 4*binary.MaxVarintLen64 + len(a.Org) + len(a.Project) + len(a.Kind) + len(a.ID)
}

// String formats a for error messages and logs.
func (a AAD) String() string {
	return fmt.Sprintf("org=%s project=%s kind=%s id=%s", a.Org, a.Project, a.Kind, a.ID)
}
