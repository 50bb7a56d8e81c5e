package veil

import "time"

// Organisation owns projects and (later) members.
type Org struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Project is the unit of data ownership: keys, sessions, events and its
// data key (DEK) belong to exactly one project.
type Project struct {
	ID    string `json:"id"`
	OrgID string `json:"org_id"`
	Name  string `json:"name"`
	// WrappedKey is the project's data key sealed by the master key. It
	// never leaves the server and is never shown.
	WrappedKey []byte    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
}

// KeyKind says what a write key may be used for.
type KeyKind string

const (
	// KeyBrowser keys (veil_wk_…) are public; they only write, and only from
	// allowed origins.
	KeyBrowser KeyKind = "browser"
	// KeyServer keys (veil_sk_…) are secrets for back-end senders.
	KeyServer KeyKind = "server"
)

// Valid reports whether k is a known key kind.
func (k KeyKind) Valid() bool { return k == KeyBrowser || k == KeyServer }

// WriteKey is an ingest credential. Only a hash of the secret part is
// stored; Prefix (the first characters) identifies it in lists and logs.
type WriteKey struct {
	ID        string     `json:"id"`
	ProjectID string     `json:"project_id"`
	Kind      KeyKind    `json:"kind"`
	Prefix    string     `json:"prefix"`
	Hash      []byte     `json:"-"`
	Origins   []string   `json:"origins,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Revoked reports whether the key is revoked now, or scheduled to be (a
// rotated key keeps working until its RevokedAt).
func (k *WriteKey) Revoked() bool { return k.RevokedAt != nil }

// RevokedAsOf reports whether the key no longer works at t: its revocation
// time has come. Before that, a rotated key still authenticates (overlap).
func (k *WriteKey) RevokedAsOf(t time.Time) bool {
	return k.RevokedAt != nil && !t.Before(*k.RevokedAt)
}

// Session is one recorded visit. Content lives sealed in the blob store;
// this is the metadata kept in SQL.
type Session struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	// WrappedKey is the per-session key sealed by the project key.
	// Destroying it crypto-shreds the session.
	WrappedKey []byte    `json:"-"`
	UserIndex  string    `json:"-"` // blind index of the user id, never the id itself
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	URLPath    string    `json:"url_path,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"` // family only, e.g. "Chrome"
	Events     int64     `json:"events"`
	Segments   int64     `json:"segments"`
	Errors     int64     `json:"errors"`
	Pages      int64     `json:"pages"` // page loads and navigations recorded (rrweb Meta events)
}

// EventBatch is the metadata of one sealed object holding many analytics
// events (events are not one SQL row each; see docs/architecture.md).
type EventBatch struct {
	ID        string    `json:"id"`
	ProjectID string    `json:"project_id"`
	BlobKey   string    `json:"blob_key"`
	Count     int       `json:"count"`
	MinTime   time.Time `json:"min_time"`
	MaxTime   time.Time `json:"max_time"`
	Bytes     int64     `json:"bytes"`
	CreatedAt time.Time `json:"created_at"`
}
