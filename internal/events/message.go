package events

import "time"

// Message types, as in Segment's spec and the "type" field.
const (
	TypeTrack    = "track"
	TypeIdentify = "identify"
	TypePage     = "page"
	TypeScreen   = "screen"
	TypeGroup    = "group"
	TypeAlias    = "alias"
)

// Request is one parsed ingest request.
type Request struct {
	// WriteKey is the writeKey sent in the body: the batch envelope's, or
	// the single message's. Empty if none was sent (the usual case: keys
	// travel as the HTTP Basic user name). It never appears in Messages.
	WriteKey string
	Messages []Message
}

// Message is one validated, normalized message.
type Message struct {
	Type        string // one of the Type constants
	MessageID   string // the client's, or "veil-" + a random UUID
	UserID      string // numbers are kept as their literal text
	AnonymousID string
	Event       string // track only
	Name        string // page and screen only
	GroupID     string // required for group
	PreviousID  string // required for alias

	// Timestamp is when the event happened, corrected for client clock
	// skew when the client sent sentAt: ReceivedAt - (SentAt -
	// OriginalTimestamp). It is ReceivedAt when the client sent none.
	Timestamp time.Time
	// OriginalTimestamp is the client's timestamp, zero if it sent none.
	OriginalTimestamp time.Time
	// SentAt is the client's send time (the message's, or else the batch
	// envelope's), zero if none.
	SentAt time.Time
	// ReceivedAt is the server time passed to Parse, in UTC.
	ReceivedAt time.Time

	// JSON is the message as it will be stored: a JSON object with the
	// client's fields in their order (writeKey removed, batch context and
	// integrations merged in), followed by type, messageId, timestamp,
	// originalTimestamp (if the client sent a timestamp; its text as
	// sent), sentAt and receivedAt (RFC 3339, UTC). It does not share
	// memory with the body passed to Parse.
	JSON []byte
}

const hexDigits = "0123456789abcdef"
