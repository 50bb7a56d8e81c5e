// Package scrub removes personal data and secrets from analytics events and
// rrweb session replays before anything is written to disk.
//
// # Design
//
// Detection is a single left-to-right pass over each string. Nearly every
// byte costs one table lookup: only digits, '@', ':', '=', '+', '(', '-'
// and the first letter of a word start a check, and each check compares a
// few bytes before any validator runs (Luhn and issuer ranges for cards,
// SSA rules for SSNs, mod-97 for IBANs, numbering plans for phones, octet
// ranges, base64 headers for JWTs, fixed prefixes for cloud tokens). There
// are no backtracking regular expressions on the hot path; per-project
// custom rules use Go's RE2, which runs in linear time.
//
// Structure informs the decision. JSON is parsed into a flat token tape
// (no maps, no interface values) and walked: a field whose name is
// sensitive ("password", "apiKey", "Set-Cookie"…) loses its whole value;
// safe fields are left alone; every other string is scanned, including
// strings that hold JSON (network bodies), URL-encoded text (query strings,
// form bodies) and JSON "\u" escapes. The class of each field name, and
// which short strings were scanned without a finding, are remembered in a
// small cache per walker, so the keys and values a document repeats are
// classified and scanned once. rrweb events are walked by type:
// text nodes, attribute values, input values (all of them for password and
// card inputs), console arguments, network headers and bodies and page URLs.
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
// The package is pure: no I/O, no logging, stdlib only. Metrics live in
// scrubmetrics, the operator CLI in scrubcli.
package scrub
