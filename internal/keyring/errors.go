package keyring

import "errors"

// Errors returned (wrapped) by Open, Unwrap and friends. Test with errors.Is.
var (
	// ErrTruncated: the input is shorter than the smallest valid object or
	// wrapped key (a cut-off read, an empty row).
	ErrTruncated = errors.New("sealed data truncated")

	// ErrUnknownVersion: the format byte is not one this build knows; it was
	// written by a newer Veil, or is not Veil data at all.
	ErrUnknownVersion = errors.New("unknown sealed data format version")

	// ErrMalformed: the input has a known version but an impossible shape.
	ErrMalformed = errors.New("malformed sealed data")

	// ErrAuth: AES-GCM authentication failed.
	ErrAuth = errors.New("authentication failed: wrong key, wrong object binding (AAD) or tampered data")

	// ErrWrongKey: a wrapped key names a different wrapping key than the
	// one given; the message says which.
	ErrWrongKey = errors.New("wrong key")

	// ErrTooLarge: the plaintext is larger than allowed (MaxPlaintext, or
	// the limit given to OpenLimit).
	ErrTooLarge = errors.New("plaintext too large")

	// ErrCorrupt: data authenticated but did not decompress. This means a
	// bug, or a writer that holds the key and misbehaves.
	ErrCorrupt = errors.New("sealed data authenticated but does not decompress")

	// ErrInvalidMaster: a master key's text form is unusable; the message
	// says why, never what the text was.
	ErrInvalidMaster = errors.New("invalid master key")
)
