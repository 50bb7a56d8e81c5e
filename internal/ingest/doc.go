// Package ingest is Veil's front door: the Segment-compatible tracking API
// (/v1/track, identify, page, screen, group, alias, batch, import) and
// replay segment uploads (/v1/replay).
//
// # Request path
//
//	per-IP rate limit → key auth (Basic user, body writeKey or ?key=;
//	constant-time hash check, no cache) → origin check (browser keys) →
//	per-key rate limit → bounded read (gzip inflated as a stream, refused
//	past the limit) → parse and validate (internal/events) → drop repeated
//	messageIds → scrub (internal/scrub) → seal (internal/keyring) → append
//	to the write-ahead log (internal/wal, group-commit fsync) → 200.
//
// Nothing is acknowledged before it is durable, and nothing reaches the
// disk unscrubbed or unencrypted: log records hold only ids and sequence
// numbers in clear. Events are sealed with the project key; a replay
// segment is sealed with its session key (created, wrapped by the project
// key, and stored before the first segment is acknowledged) and keeps that
// seal all the way into its pack object.
//
// # Packing
//
// The Packer moves records from the log into long-term storage: per
// project, events become one sealed batch object and segments are
// concatenated into one pack object with a byte-range index. Blobs are
// written first; then one store transaction records the index, the session
// counters and the log position covered (CommitPack); then the log is
// trimmed. A crash at any point repeats work without duplicating it.
//
// # Errors
//
// Every refusal is JSON {"error":{"code","message"}} with 400, 401, 403,
// 413, 415, 429 (Retry-After) or 503 (Retry-After; nothing stored).
package ingest

import "github.com/veil-privacy/veil/internal/scrub"

// DefaultScrubRules are the scrubbing rules ingest applies while projects
// have none of their own: every built-in detector, plus the fields Veil's
// own SDK sends that look sensitive by name but are not ("sessionId" is the
// replay session's random id, which links events to their recording).
func DefaultScrubRules() scrub.Rules {
	return scrub.Rules{SafeFields: []string{"context.veil.sessionId"}}
}

// DefaultReplayScrubRules are DefaultScrubRules for replay segments:
// without the Segment-only safe field (see settings.EffectiveFor).
func DefaultReplayScrubRules() scrub.Rules { return scrub.Rules{} }
