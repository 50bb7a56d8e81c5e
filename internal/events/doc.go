// Package events is Veil's analytics message model: the messages of
// Segment's HTTP Tracking API (track, identify, page, screen, group, alias,
// and batches of them), validated and normalized for storage, and messageId
// de-duplication.
//
// # Parsing
//
// Parse takes a request body as the /v1/{track,identify,page,screen,group,
// alias,batch,import} endpoints receive it and returns the messages to store
// or a *veil.Error (EINVALID or ETOOLARGE) whose message names the problem
// and, in a batch, the message ("batch[3]: track needs an event name"),
// and never quotes the payload. It follows Segment's spec and what
// analytics-node, analytics-go, analytics-python and analytics-php send:
//
//   - Every message needs a userId or an anonymousId; alias needs userId
//     and previousId; track needs a non-empty event; group needs groupId.
//     Identifiers (and messageId) may be strings or numbers; numbers become
//     strings holding their literal text. null or "" means absent.
//   - A batch message needs a type; a single-message body may omit it, and
//     a type that differs from the endpoint is an error.
//   - timestamp and sentAt are ISO-8601 strings (see parseTime: RFC 3339
//     with or without fraction and offset, naive times as UTC, date only).
//     timestamp is corrected for client clock skew when sentAt is known:
//     receivedAt - (sentAt - timestamp). The client's value is kept as
//     originalTimestamp. A message without sentAt takes the batch's.
//   - context and integrations must be objects (null and [] are accepted as
//     empty). Batch-level context and integrations are merged into each
//     message one level deep: a message's own top-level keys win.
//   - writeKey is taken out of the body (Request.WriteKey; in a batch only
//     the envelope's counts) and never stored. Client-sent receivedAt and
//     originalTimestamp are replaced. Every other field is kept as sent.
//   - Limits are Segment's: 32 KB per message, 500 KB per batch; plus a
//     nesting depth (64), a message count (2500) and an optional string
//     length. Sizes are checked before anything is decoded.
//
// Two choices go beyond Segment's documentation. Invalid UTF-8 is rejected,
// not replaced: JSON must be UTF-8 (RFC 8259), and replacing bytes would
// silently change identifiers and let two different byte strings stand for
// one id. Duplicate top-level field names are rejected: decoders disagree on
// which one wins, and the scrubber, the indexes and a later reader must all
// see the same userId.
//
// # Implementation
//
// The body is read by a single-pass JSON scanner (scan.go) that validates
// the grammar, UTF-8, nesting depth and string lengths, and records the
// members of each message as byte spans. The stored message is assembled by
// copying those spans, so no maps or interface values are built and memory
// is bounded by the body's size: one output buffer and one string buffer
// per request, and 6 allocations per batch. It runs about 20,000
// instructions per 600-byte event, a tenth of what decoding each message
// into a map with encoding/json and encoding it again takes
// (BenchmarkParseBatch against BenchmarkEncodingJSONBaseline). FuzzScan
// checks it against encoding/json's notion of validity.
//
// # De-duplication
//
// Dedup remembers (project, messageId) pairs for 24 hours, as Segment does,
// in about 12 bytes per id with one table probe per lookup; see its
// documentation.
package events
