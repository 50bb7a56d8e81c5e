package ingest

import "github.com/veil-privacy/veil/internal/keyring"

// Exported for internal/lifecycle, which rewrites and deletes what the
// packer stored (retention, erasure, backups) without opening the rest of
// this package's internals.

// EventsAAD binds one entry of an event batch object (a sealed log record
// of JSON-lines messages) to its project and record id.
func EventsAAD(orgID, projectID, recID string) keyring.AAD {
	return eventsAAD(orgID, projectID, recID)
}

// ProjectKeyAAD binds a project's wrapped data key to the project (the same
// binding as provision.ProjectKeyAAD).
func ProjectKeyAAD(orgID, projectID string) keyring.AAD { return projectKeyAAD(orgID, projectID) }

// EachBatchEntry calls fn for each (record id, sealed messages) entry of an
// event batch object, in order. A malformed object is an error.
func EachBatchEntry(obj []byte, fn func(id string, sealed []byte) error) error {
	return eachBatchEntry(obj, fn)
}

// AppendBatchEntry appends one entry to an event batch object (starting a
// new object when b is empty) and returns the extended object.
func AppendBatchEntry(b []byte, id string, sealed []byte) []byte {
	return appendBatchEntry(b, id, sealed)
}
