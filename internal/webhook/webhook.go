// Package webhook sends Standard Webhooks (v1) signed event notifications
// to project endpoints, at least once, through a durable outbox.
//
// # Design summary
//
//   - Endpoints belong to a project and hold a "whsec_" secret (32 random
//     bytes), sealed with the instance's accounts data key under an AAD
//     naming the endpoint, shown in clear only on creation and rotation.
//     Rotation keeps the previous secret for an overlap period, during
//     which every message carries both signatures.
//   - Events are written to the store's outbox in the transaction of the
//     change that causes them (store.DB.EmitWebhookEventTx): one message
//     per subscribed endpoint, with its final body and a message id that
//     is the webhook-id header of every attempt.
//   - Workers (any number, on any node) lease due messages from the
//     store, POST them with webhook-id, webhook-timestamp and
//     webhook-signature headers, and record each attempt. 2xx is success;
//     anything else is retried after 5 s, 5 min, 30 min, 2 h, 5 h and
//     10 h (±20 % jitter), then the message fails. 410 Gone disables the
//     endpoint; an endpoint failing for DisableAfter is disabled with an
//     alert. A crashed worker's leases expire and the messages are retried.
//   - The HTTP client refuses loopback, private, link-local, multicast,
//     reserved and cloud-metadata addresses on the connected address (so
//     DNS rebinding cannot bypass it), ignores proxies, does not follow
//     redirects and times out.
//
// Payloads carry ids and metadata only, never recorded content or
// personal data; see docs/webhooks.md.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/keyring"
)

// Event types (version 1 of each payload; see docs/webhooks.md).
const (
	SessionStarted   = "session.started"
	SessionEnded     = "session.ended"
	RecordingPushed  = "recording.pushed"
	RecordingDeleted = "recording.deleted"
	UserErased       = "user.erased"
	ExportCompleted  = "export.completed"
	DestinationFail  = "destination.failed"
	KeyRevoked       = "key.revoked"
	Test             = "webhook.test"
)

// EventTypes lists every event type an endpoint can subscribe to.
var EventTypes = []string{SessionStarted, SessionEnded, RecordingPushed, RecordingDeleted, UserErased,
	ExportCompleted, DestinationFail, KeyRevoked, Test}

// Store is the endpoint and delivery-log storage the Service needs
// (store.DB implements it).
type Store interface {
	CreateWebhookEndpoint(ctx context.Context, e *veil.WebhookEndpoint) error
	FindWebhookEndpoint(ctx context.Context, projectID, id string) (*veil.WebhookEndpoint, error)
	ListWebhookEndpoints(ctx context.Context, projectID string) ([]*veil.WebhookEndpoint, error)
	UpdateWebhookEndpoint(ctx context.Context, e *veil.WebhookEndpoint) error
	DeleteWebhookEndpoint(ctx context.Context, projectID, id string) error
	CreateWebhookMessage(ctx context.Context, m *veil.WebhookMessage) error
	FindWebhookMessage(ctx context.Context, projectID, id string) (*veil.WebhookMessage, error)
	ListWebhookMessages(ctx context.Context, projectID, endpointID string, limit int) ([]*veil.WebhookMessage, error)
	ListWebhookAttempts(ctx context.Context, messageID string) ([]*veil.WebhookAttempt, error)
	ResendWebhookMessage(ctx context.Context, projectID, id string) error
}

// DefaultOverlap is how long a rotated secret keeps signing.
const DefaultOverlap = 24 * time.Hour

// MaxOverlap bounds the rotation overlap.
const MaxOverlap = 7 * 24 * time.Hour

// Service manages endpoints: create, update, rotate, delete, test, resend.
type Service struct {
	Store Store
	// Key seals endpoint secrets (the instance's accounts key).
	Key *keyring.DataKey
	// AllowPrivate accepts endpoint URLs on private addresses (operator
	// flag; tests). Workers must be configured the same way.
	AllowPrivate bool
	Now          func() time.Time
	Logger       *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func secretAAD(endpointID string) keyring.AAD {
	return keyring.AAD{Kind: "webhook-secret", ID: endpointID}
}

// EndpointInput is what a person sets on an endpoint.
type EndpointInput struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
	Enabled     *bool    `json:"enabled"`
}

// ValidateURL checks an endpoint URL: absolute http(s), no credentials, and
// (unless allowPrivate) not a literal private address.
func ValidateURL(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return veil.Errorf(veil.EINVALID, "Endpoint URL must be an absolute http:// or https:// URL.")
	case u.User != nil:
		return veil.Errorf(veil.EINVALID, "Endpoint URL must not contain credentials.")
	case len(raw) > 2048:
		return veil.Errorf(veil.EINVALID, "Endpoint URL is too long.")
	}
	if err := Guard(allowPrivate).CheckHost(u.Hostname()); err != nil {
		return veil.Errorf(veil.EINVALID, "%s", err.Error())
	}
	return nil
}

func validTypes(types []string) error {
	for _, t := range types {
		if !isEventType(t) {
			return veil.Errorf(veil.EINVALID, "Unknown event type %q.", t)
		}
	}
	return nil
}

func isEventType(t string) bool {
	for _, k := range EventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Create adds an endpoint to a project and returns it with its secret,
// which is never shown again.
func (s *Service) Create(ctx context.Context, projectID string, in EndpointInput) (*veil.WebhookEndpoint, string, error) {
	if err := ValidateURL(in.URL, s.AllowPrivate); err != nil {
		return nil, "", err
	}
	if err := validTypes(in.EventTypes); err != nil {
		return nil, "", err
	}
	if len(in.Description) > 500 {
		return nil, "", veil.Errorf(veil.EINVALID, "Description is too long (500 characters at most).")
	}
	e := &veil.WebhookEndpoint{ID: veil.NewID("ep"), ProjectID: projectID, URL: in.URL, Description: in.Description,
		EventTypes: in.EventTypes, Enabled: in.Enabled == nil || *in.Enabled}
	secret := NewSecret()
	sealed, err := s.Key.Seal([]byte(secret), secretAAD(e.ID))
	if err != nil {
		return nil, "", err
	}
	e.SealedSecret = sealed
	if err := s.Store.CreateWebhookEndpoint(ctx, e); err != nil {
		return nil, "", err
	}
	return e, secret, nil
}

// Update changes an endpoint's URL, description, event types or enabled
// flag (fields left zero are kept; EventTypes [] means all types).
func (s *Service) Update(ctx context.Context, projectID, id string, in EndpointInput) (*veil.WebhookEndpoint, error) {
	e, err := s.Store.FindWebhookEndpoint(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	if in.URL != "" {
		if err := ValidateURL(in.URL, s.AllowPrivate); err != nil {
			return nil, err
		}
		e.URL = in.URL
	}
	if in.Description != "" {
		e.Description = in.Description
	}
	if in.EventTypes != nil {
		if err := validTypes(in.EventTypes); err != nil {
			return nil, err
		}
		e.EventTypes = in.EventTypes
	}
	if in.Enabled != nil {
		e.Enabled = *in.Enabled
		if !e.Enabled {
			e.DisabledReason = ""
		}
	}
	if err := s.Store.UpdateWebhookEndpoint(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Edit sets an endpoint's description, event types (none = all) and
// enabled flag exactly as given (the dashboard's form; Update keeps fields
// left zero).
func (s *Service) Edit(ctx context.Context, projectID, id, description string, types []string, enabled bool) (*veil.WebhookEndpoint, error) {
	if err := validTypes(types); err != nil {
		return nil, err
	}
	if len(description) > 500 {
		return nil, veil.Errorf(veil.EINVALID, "Description is too long (500 characters at most).")
	}
	e, err := s.Store.FindWebhookEndpoint(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	if e.Enabled && !enabled {
		e.DisabledReason = "" // disabled by a person; an automatic reason is kept
	}
	e.Description, e.EventTypes, e.Enabled = description, types, enabled
	if len(types) == 0 {
		e.EventTypes = nil
	}
	if err := s.Store.UpdateWebhookEndpoint(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Rotate gives an endpoint a new secret and returns it. The old secret
// keeps signing (a second signature in webhook-signature) for overlap.
func (s *Service) Rotate(ctx context.Context, projectID, id string, overlap time.Duration) (*veil.WebhookEndpoint, string, error) {
	if overlap < 0 || overlap > MaxOverlap {
		return nil, "", veil.Errorf(veil.EINVALID, "Overlap must be between 0 and %s.", MaxOverlap)
	}
	e, err := s.Store.FindWebhookEndpoint(ctx, projectID, id)
	if err != nil {
		return nil, "", err
	}
	secret := NewSecret()
	sealed, err := s.Key.Seal([]byte(secret), secretAAD(e.ID))
	if err != nil {
		return nil, "", err
	}
	e.SealedPrevSecret, e.PrevSecretUntil = nil, nil
	if overlap > 0 {
		until := s.now().Add(overlap)
		e.SealedPrevSecret, e.PrevSecretUntil = e.SealedSecret, &until
	}
	e.SealedSecret = sealed
	if err := s.Store.UpdateWebhookEndpoint(ctx, e); err != nil {
		return nil, "", err
	}
	return e, secret, nil
}

// Secrets returns the secrets that sign e's messages at now: the current
// one and, during a rotation overlap, the previous one.
func Secrets(key *keyring.DataKey, e *veil.WebhookEndpoint, now time.Time) ([]string, error) {
	cur, err := key.Open(e.SealedSecret, secretAAD(e.ID))
	if err != nil {
		return nil, errors.New("cannot open the endpoint secret (accounts key changed?)")
	}
	out := []string{string(cur)}
	if len(e.SealedPrevSecret) > 0 && e.PrevSecretUntil != nil && now.Before(*e.PrevSecretUntil) {
		prev, err := key.Open(e.SealedPrevSecret, secretAAD(e.ID))
		if err != nil {
			return nil, errors.New("cannot open the endpoint's previous secret")
		}
		out = append(out, string(prev))
	}
	return out, nil
}

// SendTest queues a webhook.test message for one endpoint.
func (s *Service) SendTest(ctx context.Context, projectID, id string) (*veil.WebhookMessage, error) {
	e, err := s.Store.FindWebhookEndpoint(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(map[string]any{"type": Test, "timestamp": s.now().UTC(),
		"data": TestData{ProjectID: projectID, EndpointID: e.ID}})
	if err != nil {
		return nil, err
	}
	m := &veil.WebhookMessage{EndpointID: e.ID, ProjectID: projectID, EventType: Test, Payload: body}
	if err := s.Store.CreateWebhookMessage(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}
