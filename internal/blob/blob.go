// Package blob defines Bucket, Veil's object-storage plug-point, and the
// registry that opens one from a --blobs URL.
//
// Two adapters implement Bucket: internal/blob/local (a directory, the
// default) and internal/blob/s3 (any S3-compatible server). Both pass the
// same conformance suite, internal/blob/blobtest. Objects are opaque bytes:
// sealing (compression and encryption) happens above this layer, so a
// Bucket never sees plaintext.
//
// # Keys
//
// Keys are slash-separated paths such as "p/01J…/s/01J…/000001.seg". Every
// adapter checks them with [ValidateKey]: no empty or dot-leading segments
// (so no "." or ".."), no leading or trailing slash, no NUL, control
// characters or backslashes, valid UTF-8, at most [MaxKeyLen] bytes and
// [MaxSegmentLen] bytes per segment. Names
// starting with "." are reserved for adapters' own bookkeeping (the local
// adapter's temporary files). Keys form a tree, as on a filesystem: a key
// must not also be the parent "directory" of another key (both "a" and
// "a/b"); the local adapter cannot store that and S3 makes it ambiguous.
//
// # Opening by URL
//
// [Open] picks an adapter by URL scheme from a registry filled by the
// adapters' init functions (litestream style), so package blob imports no
// adapter and no adapter imports another. The program that calls Open must
// link the adapters it wants:
//
//	import (
//		_ "github.com/veil-privacy/veil/internal/blob/local"
//		_ "github.com/veil-privacy/veil/internal/blob/s3"
//	)
//
// Opening a scheme whose adapter was not linked fails with an error that
// names the missing import.
package blob

import (
	"context"
	"errors"
	"time"

	"github.com/veil-privacy/veil"
)

// Bucket stores immutable-by-convention objects under string keys.
//
// All methods are safe for concurrent use. Every method validates its key
// (or prefix) first and returns an error wrapping [ErrInvalidKey] for a bad
// one, without touching storage. Errors for missing objects wrap
// [ErrNotFound]; test with errors.Is. Errors never contain object contents
// or credentials; they may contain keys, which are IDs, never user data.
type Bucket interface {
	// Put stores data under key, replacing any previous object. It is
	// atomic: a concurrent or later reader sees either the previous object
	// or all of data, never a partial write; concurrent Puts of the same key
	// leave exactly one of the values. When Put returns nil the object is
	// durable (fsynced locally, acknowledged by S3). Put does not keep a
	// reference to data after it returns.
	Put(ctx context.Context, key string, data []byte) error

	// Get returns the whole object stored under key, or an error wrapping
	// ErrNotFound if there is none.
	Get(ctx context.Context, key string) ([]byte, error)

	// GetRange returns at most n bytes of the object under key starting at
	// byte offset off; it is how packed objects are read. A range that
	// runs past the end of the object is cut short (fewer than n bytes, no
	// error); an off at or past the end with n > 0 returns an error
	// wrapping ErrRange; n == 0 returns an empty slice if the object
	// exists. off < 0 or n < 0 wrap ErrRange too. A missing object wraps
	// ErrNotFound.
	GetRange(ctx context.Context, key string, off, n int64) ([]byte, error)

	// Stat returns the size and modification time of the object under key,
	// or an error wrapping ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)

	// Delete removes the object under key. It is idempotent: deleting a
	// key that does not exist returns nil.
	Delete(ctx context.Context, key string) error

	// List calls fn for every object whose key starts with prefix, in
	// lexical (byte-wise) key order. An empty prefix lists everything. A
	// prefix need not end at a segment boundary ("s/ab" matches "s/abc/1").
	// If fn returns an error, List stops and returns that error unchanged.
	// Objects put or deleted while List runs may or may not be seen.
	List(ctx context.Context, prefix string, fn func(Info) error) error

	// Ping reports whether the bucket is ready: the directory or S3 bucket
	// exists, is reachable with the configured credentials and is usable.
	// Its error is a single line meant for operators (readyz, veil doctor).
	Ping(ctx context.Context) error
}

// Info describes one stored object.
type Info struct {
	Key     string    // key as given to Put
	Size    int64     // size in bytes
	ModTime time.Time // when the object was last written, as the backend reports it
}

var (
	// ErrNotFound is wrapped by errors for objects that do not exist. It is
	// a *veil.Error with code ENOTFOUND, so veil.ErrorCode maps it to 404
	// if it ever reaches a handler unchanged.
	ErrNotFound error = veil.Errorf(veil.ENOTFOUND, "Object not found.")

	// ErrInvalidKey is wrapped by errors for keys or prefixes that break
	// the rules in ValidateKey.
	ErrInvalidKey = errors.New("invalid blob key")

	// ErrRange is wrapped by GetRange errors for a negative offset or
	// length, or an offset at or past the end of the object.
	ErrRange = errors.New("blob range not satisfiable")
)
