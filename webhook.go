package veil

import (
	"encoding/json"
	"time"
)

// WebhookEndpoint is a project's subscription: where to POST which event
// types. Secrets are stored sealed (internal/webhook seals them with the
// instance's accounts key) and are shown in clear only once, on creation
// or rotation.
type WebhookEndpoint struct {
	ID          string `json:"id"`
	ProjectID   string `json:"project_id"`
	URL         string `json:"url"`
	Description string `json:"description"`
	// EventTypes filters what is sent; empty means every event type.
	EventTypes []string `json:"event_types"`
	Enabled    bool     `json:"enabled"`
	// DisabledReason says why Veil disabled the endpoint (410 Gone, failing
	// for days); empty when enabled or disabled by a person.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// SealedSecret is the current signing secret; SealedPrevSecret the one
	// it replaced, still used (as a second signature) until PrevSecretUntil.
	SealedSecret     []byte     `json:"-"`
	SealedPrevSecret []byte     `json:"-"`
	PrevSecretUntil  *time.Time `json:"prev_secret_until,omitempty"`
	// FailingSince is the first failed attempt since the last success.
	FailingSince *time.Time `json:"failing_since,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
}

// Accepts reports whether the endpoint subscribes to event type typ.
func (e *WebhookEndpoint) Accepts(typ string) bool {
	if len(e.EventTypes) == 0 {
		return true
	}
	for _, t := range e.EventTypes {
		if t == typ {
			return true
		}
	}
	return false
}

// WebhookEvent is something that happened, to be sent to every enabled
// endpoint of its project that accepts its type. Data holds ids and
// metadata only, never recorded content or personal data.
type WebhookEvent struct {
	ProjectID string
	Type      string
	Data      any
}

// Webhook message states.
const (
	WebhookPending   = "pending"   // waiting for its next attempt
	WebhookDelivered = "delivered" // a 2xx answer was received
	WebhookFailed    = "failed"    // retries exhausted or endpoint gone
)

// WebhookMessage is one event for one endpoint (the outbox row). ID is the
// webhook-id header, the same on every attempt; Payload is the exact body.
type WebhookMessage struct {
	ID         string          `json:"id"`
	EndpointID string          `json:"endpoint_id"`
	ProjectID  string          `json:"project_id"`
	EventType  string          `json:"event_type"`
	Payload    json.RawMessage `json:"payload"`
	Status     string          `json:"status"`
	Attempts   int             `json:"attempts"`
	// Tries counts attempts since the message was created or resent; it
	// picks the next retry delay.
	Tries         int        `json:"-"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastStatus    int        `json:"last_status,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
}

// WebhookAttempt is one delivery try, as shown in the delivery log.
// Excerpt is at most a short, truncated start of the response body.
type WebhookAttempt struct {
	MessageID  string    `json:"message_id"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	LatencyMS  int64     `json:"latency_ms"`
	Excerpt    string    `json:"excerpt,omitempty"`
}

// WebhookResult is the outcome of an attempt that the store records in one
// transaction: the attempt row, the message's new state, and the
// endpoint's failure tracking.
type WebhookResult struct {
	Attempt WebhookAttempt
	// Holder must still hold the message's lease.
	Holder    string
	Delivered bool
	// NextAttemptAt schedules a retry; nil (and not Delivered) fails the
	// message for good.
	NextAttemptAt *time.Time
	// DisableEndpoint, when set, disables the endpoint with this reason.
	DisableEndpoint string
}

// WebhookDelivery is a message claimed for delivery, with its endpoint.
type WebhookDelivery struct {
	Message  *WebhookMessage
	Endpoint *WebhookEndpoint
}
