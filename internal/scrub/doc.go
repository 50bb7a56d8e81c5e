// Package scrub removes personal data and secrets from analytics events and
// rrweb session replays before anything is written to disk.
//
// # Design
//
// Detection is a single left-to-right pass over each string. Only digits,
// '@', ':', '=', '+', '(', '-' and the first letter of a word start a
// check; on amd64 with AVX2 an assembly classifier marks those bytes 32 at
// a time and the scanner jumps from mark to mark (textidx.go; elsewhere,
// and with -tags purego, a byte loop with table lookups does the same).
// Each check compares a few bytes before any validator runs (Luhn and
// issuer ranges for cards, SSA rules for SSNs, mod-97 for IBANs, numbering
// plans for phones, octet ranges, base64 headers for JWTs, fixed prefixes
// for cloud tokens). There are no backtracking regular expressions on the
// hot path; per-project custom rules use Go's RE2, which runs in linear
// time.
//
// Structure informs the decision. JSON is parsed and scrubbed in one pass
// over its bytes (a validating recursive-descent walker; no token tape, no
// maps, no interface values): a field whose name is sensitive ("password",
// "apiKey", "Set-Cookie"…) loses its whole value; safe fields are left
// alone; every other string is scanned, including strings that hold JSON
// (network bodies), URL-encoded text (query strings, form bodies) and JSON
// "\u" escapes. Keys and short values a document repeats are recognised
// from their first input bytes (a memo per walker) and classified and
// scanned once. rrweb events get the same walk plus one rule by position:
// the value of a password or card input (its value attribute, later input
// events, text and attribute mutations for its node id) is masked whole;
// when the facts that decide it come after the value, the value is
// re-masked when its object closes (see rrweb.go).
//
// Replay text keeps its length ('*' per character) so the page layout
// survives; event properties get a marker ("[Filtered]"). Output of valid
// JSON is valid JSON; scrubbing is idempotent (a bounded fixpoint); clean
// input is returned as is without allocating.
//
// Bad input is never passed through: invalid JSON, invalid UTF-8 and input
// over the Limits are errors that name the problem. Parts of an rrweb event
// with an unknown shape are scrubbed as generic JSON.
//
// The package is pure: no I/O, no logging, stdlib only (plus one AVX2
// assembly file with a pure-Go twin). Metrics live in scrubmetrics, the
// operator CLI in scrubcli.
package scrub
