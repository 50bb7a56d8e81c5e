package webhook

import (
	"io"
	"time"

	"github.com/veil-privacy/veil"
)

// Payload data of each event type, version 1. Every field is an id, a
// count, a time or a short machine-readable code: never recorded content,
// URLs, user traits or anything else personal. New fields may be added;
// existing ones keep their meaning (a breaking change gets a new type name
// such as "session.ended.v2").
//
// Emitters write them inside the transaction of the change they report:
// store.DB.EmitWebhookEventTx(ctx, tx, veil.WebhookEvent{ProjectID: p,
// Type: webhook.UserErased, Data: webhook.UserErasedData{…}}), or
// store.DB.EmitWebhookEvent when there is no such transaction.

// SessionStartedData is the data of session.started: sent when a
// session's first recording segment is stored (the session then exists:
// listed and playable). URLPath is the entry page path as stored (scrubbed
// at ingest, no query string); UserAgentFamily is a browser family
// ("Chrome", "Firefox", …), never the User-Agent string.
type SessionStartedData struct {
	ProjectID       string    `json:"project_id"`
	SessionID       string    `json:"session_id"`
	StartedAt       time.Time `json:"started_at"`
	URLPath         string    `json:"url_path"`
	UserAgentFamily string    `json:"user_agent_family"`
}

// SessionEndedData is the data of session.ended: sent once no segment of
// the session has been stored for the idle timeout (veil serve
// --session-idle-timeout, default 30 min). EndedAt is the last recorded
// activity and DurationMS = EndedAt - StartedAt.
type SessionEndedData struct {
	ProjectID  string    `json:"project_id"`
	SessionID  string    `json:"session_id"`
	StartedAt  time.Time `json:"started_at"`
	EndedAt    time.Time `json:"ended_at"`
	DurationMS int64     `json:"duration_ms"`
	Segments   int64     `json:"segments"`
	Events     int64     `json:"events"`
	Errors     int64     `json:"errors"`
}

// RecordingData is the data of recording.deleted (the store writes these
// fields in the deletion's transaction). recording.pushed carries
// destination.PushedData.
type RecordingData struct {
	ProjectID string `json:"project_id"`
	SessionID string `json:"session_id"`
	// Reason is why it was deleted: "request", "retention" or "erasure".
	Reason string `json:"reason"`
}

// UserErasedData is the data of user.erased: the erasure's certificate id,
// never the subject's identity.
type UserErasedData struct {
	ProjectID     string `json:"project_id"`
	CertificateID string `json:"certificate_id"`
	Sessions      int    `json:"sessions"`
}

// ExportData is the data of export.completed: what was exported, how
// much, and who asked (an actor id, never an e-mail address). Kind is
// "events" (a project's events), "replay" (one session) or "user" (a
// per-user access export); Format is "ndjson", "json" or "zip".
type ExportData struct {
	ProjectID string `json:"project_id"`
	ExportID  string `json:"export_id"`
	Kind      string `json:"kind"`
	Format    string `json:"format"`
	Events    int64  `json:"events"`
	Sessions  int64  `json:"sessions"`
	Segments  int64  `json:"segments"`
	Bytes     int64  `json:"bytes"`
	// ActorKind is "user", "token" or "system" (the CLI); ActorID the
	// user or token id, or "cli".
	ActorKind   string    `json:"actor_kind"`
	ActorID     string    `json:"actor_id"`
	CompletedAt time.Time `json:"completed_at"`
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

// ExportCompletedEvent returns the export.completed event of d, giving it
// an export id ("exp_…") and completion time when unset.
func ExportCompletedEvent(d ExportData, now time.Time) veil.WebhookEvent {
	if d.ExportID == "" {
		d.ExportID = veil.NewID("exp")
	}
	if d.CompletedAt.IsZero() {
		d.CompletedAt = now.UTC()
	}
	return veil.WebhookEvent{ProjectID: d.ProjectID, Type: ExportCompleted, Data: d}
}

// CountingWriter counts the bytes written through it (an export's size).
type CountingWriter struct {
	W io.Writer
	N int64
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}
