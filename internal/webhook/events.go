package webhook

import "time"

// Payload data of each event type, version 1. Every field is an id, a
// count, a time or a short machine-readable code: never recorded content,
// URLs, user traits or anything else personal. New fields may be added;
// existing ones keep their meaning (a breaking change gets a new type name
// such as "session.ended.v2").
//
// Emitters write them inside the transaction of the change they report:
// store.DB.EmitWebhookEventTx(ctx, tx, veil.WebhookEvent{ProjectID: p,
// Type: webhook.SessionEnded, Data: webhook.SessionData{…}}), or
// store.DB.EmitWebhookEvent when there is no such transaction.

// SessionData is the data of session.started and session.ended.
type SessionData struct {
	ProjectID string    `json:"project_id"`
	SessionID string    `json:"session_id"`
	StartedAt time.Time `json:"started_at"`
	// EndedAt and the counts are set on session.ended (sent once the
	// session has been idle for the idle timeout).
	EndedAt  *time.Time `json:"ended_at,omitempty"`
	Segments int        `json:"segments,omitempty"`
	Events   int        `json:"events,omitempty"`
}

// RecordingData is the data of recording.pushed and recording.deleted.
type RecordingData struct {
	ProjectID string `json:"project_id"`
	SessionID string `json:"session_id"`
	// Seq is the segment pushed (recording.pushed).
	Seq int `json:"seq,omitempty"`
	// Reason is why it was deleted: "request", "retention" or "erasure".
	Reason string `json:"reason,omitempty"`
}

// UserErasedData is the data of user.erased: the erasure's certificate id,
// never the subject's identity.
type UserErasedData struct {
	ProjectID     string `json:"project_id"`
	CertificateID string `json:"certificate_id"`
	Sessions      int    `json:"sessions"`
}

// ExportData is the data of export.completed.
type ExportData struct {
	ProjectID string `json:"project_id"`
	ExportID  string `json:"export_id"`
	Format    string `json:"format"`
	Bytes     int64  `json:"bytes"`
}

// DestinationFailedData is the data of destination.failed.
type DestinationFailedData struct {
	ProjectID     string `json:"project_id"`
	DestinationID string `json:"destination_id"`
	// Error is a short code ("auth", "timeout", "http_5xx"), not a message
	// that could echo data.
	Error string `json:"error"`
}

// KeyRevokedData is the data of key.revoked (written by
// store.DB.RevokeKeyAndEmit).
type KeyRevokedData struct {
	ProjectID string    `json:"project_id"`
	KeyID     string    `json:"key_id"`
	KeyPrefix string    `json:"key_prefix"`
	Kind      string    `json:"kind"`
	RevokedAt time.Time `json:"revoked_at"`
}

// TestData is the data of webhook.test.
type TestData struct {
	ProjectID  string `json:"project_id"`
	EndpointID string `json:"endpoint_id"`
}
