package api

import (
	"net/http"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/webhook"
)

// Webhook routes: endpoints of a project, their delivery log, test
// events and resends (internal/webhook; docs/webhooks.md). Reading needs
// a member; changing where data goes needs an admin (destinations.manage).

// Audit actions for webhook changes.
const (
	actionWebhookCreate = "webhook.create"
	actionWebhookUpdate = "webhook.update"
	actionWebhookDelete = "webhook.delete"
	actionWebhookRotate = "webhook.rotate_secret"
	actionWebhookTest   = "webhook.test"
	actionWebhookResend = "webhook.resend"
)

// NewWebhook is a created endpoint (or one whose secret was rotated) with
// its signing secret, shown only here.
type NewWebhook struct {
	Endpoint *veil.WebhookEndpoint `json:"endpoint"`
	Secret   string                `json:"secret"`
}

// WebhookMessageView is a message with its attempts (the delivery log).
type WebhookMessageView struct {
	*veil.WebhookMessage
	AttemptLog []*veil.WebhookAttempt `json:"attempt_log"`
}

func (h *Handler) webhooks() (*webhook.Service, error) {
	if h.o.Webhooks == nil {
		return nil, veil.Errorf(veil.EUNAVAILABLE, "Webhooks are not available on this server.")
	}
	return h.o.Webhooks, nil
}

// webhookProject returns the webhook service and the request's project
// (tenant-scoped), the prologue of every webhook handler.
func (h *Handler) webhookProject(r *http.Request) (*webhook.Service, *veil.Project, error) {
	svc, err := h.webhooks()
	if err != nil {
		return nil, nil, err
	}
	p, err := h.project(r)
	if err != nil {
		return nil, nil, err
	}
	return svc, p, nil
}

// resolveWebhook checks the {webhook} and {message} path objects belong
// to the project (called by resolve).
func (h *Handler) resolveWebhook(r *http.Request, projectID string) error {
	id := r.PathValue("webhook")
	if id == "" {
		return nil
	}
	svc, err := h.webhooks()
	if err != nil {
		return veil.Errorf(veil.ENOTFOUND, "Webhook endpoint not found.")
	}
	if _, err := svc.Store.FindWebhookEndpoint(r.Context(), projectID, id); err != nil {
		return err
	}
	if mid := r.PathValue("message"); mid != "" {
		m, err := svc.Store.FindWebhookMessage(r.Context(), projectID, mid)
		if err != nil {
			return err
		}
		if m.EndpointID != id {
			return veil.Errorf(veil.ENOTFOUND, "Webhook message not found.")
		}
	}
	return nil
}

func (h *Handler) recordWebhook(r *http.Request, p *veil.Project, action, id string) error {
	return record(r, audit.Entry{OrgID: p.OrgID, Action: action, ObjectKind: "webhook", ObjectID: id,
		Details: map[string]string{"project": p.ID}})
}

// listWebhooks handles "GET …/webhooks" (members).
func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhooks()
	if err != nil {
		return err
	}
	es, err := svc.Store.ListWebhookEndpoints(r.Context(), r.PathValue("project"))
	if err != nil {
		return err
	}
	l, err := pageOf(r, es, func(e *veil.WebhookEndpoint) string { return e.ID })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// createWebhook handles "POST …/webhooks" (admins).
func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.webhookProject(r)
	if err != nil {
		return err
	}
	var in webhook.EndpointInput
	if err := decode(r, &in); err != nil {
		return err
	}
	e, secret, err := svc.Create(r.Context(), p.ID, in)
	if err != nil {
		return err
	}
	if err := h.recordWebhook(r, p, actionWebhookCreate, e.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NewWebhook{e, secret})
	return nil
}

// getWebhook handles "GET …/webhooks/{webhook}" (members).
func (h *Handler) getWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhooks()
	if err != nil {
		return err
	}
	e, err := svc.Store.FindWebhookEndpoint(r.Context(), r.PathValue("project"), r.PathValue("webhook"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// updateWebhook handles "PATCH …/webhooks/{webhook}" (admins).
func (h *Handler) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.webhookProject(r)
	if err != nil {
		return err
	}
	var in webhook.EndpointInput
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := svc.Update(r.Context(), p.ID, r.PathValue("webhook"), in)
	if err != nil {
		return err
	}
	if err := h.recordWebhook(r, p, actionWebhookUpdate, e.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// deleteWebhook handles "DELETE …/webhooks/{webhook}" (admins).
func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.webhookProject(r)
	if err != nil {
		return err
	}
	if err := svc.Store.DeleteWebhookEndpoint(r.Context(), p.ID, r.PathValue("webhook")); err != nil {
		return err
	}
	if err := h.recordWebhook(r, p, actionWebhookDelete, r.PathValue("webhook")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateWebhook handles "POST …/webhooks/{webhook}/rotate" (admins): a new
// secret; the old one keeps signing for overlap_seconds (default 24 h).
func (h *Handler) rotateWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.webhookProject(r)
	if err != nil {
		return err
	}
	in := struct {
		OverlapSeconds *int64 `json:"overlap_seconds"`
	}{}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	overlap := webhook.DefaultOverlap
	if in.OverlapSeconds != nil {
		overlap = time.Duration(*in.OverlapSeconds) * time.Second
	}
	e, secret, err := svc.Rotate(r.Context(), p.ID, r.PathValue("webhook"), overlap)
	if err != nil {
		return err
	}
	if err := h.recordWebhook(r, p, actionWebhookRotate, e.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, NewWebhook{e, secret})
	return nil
}

// testWebhook handles "POST …/webhooks/{webhook}/test" (admins): queues a
// webhook.test message.
func (h *Handler) testWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.webhookProject(r)
	if err != nil {
		return err
	}
	m, err := svc.SendTest(r.Context(), p.ID, r.PathValue("webhook"))
	if err != nil {
		return err
	}
	if err := h.recordWebhook(r, p, actionWebhookTest, r.PathValue("webhook")); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, m)
	return nil
}

// listWebhookMessages handles "GET …/webhooks/{webhook}/messages"
// (members): the newest messages first (?limit=, at most 200).
func (h *Handler) listWebhookMessages(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhooks()
	if err != nil {
		return err
	}
	ms, err := svc.Store.ListWebhookMessages(r.Context(), r.PathValue("project"), r.PathValue("webhook"), 200)
	if err != nil {
		return err
	}
	l, err := pageOf(r, ms, func(m *veil.WebhookMessage) string { return m.ID })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// getWebhookMessage handles "GET …/messages/{message}" (members): the
// message with every attempt (status, response code, latency, error and
// a short excerpt of the response).
func (h *Handler) getWebhookMessage(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.webhooks()
	if err != nil {
		return err
	}
	m, err := svc.Store.FindWebhookMessage(r.Context(), r.PathValue("project"), r.PathValue("message"))
	if err != nil {
		return err
	}
	as, err := svc.Store.ListWebhookAttempts(r.Context(), m.ID)
	if err != nil {
		return err
	}
	if as == nil {
		as = []*veil.WebhookAttempt{}
	}
	writeJSON(w, http.StatusOK, WebhookMessageView{m, as})
	return nil
}

// resendWebhookMessage handles "POST …/messages/{message}/resend"
// (admins): the same message (same webhook-id) is sent again now.
func (h *Handler) resendWebhookMessage(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.webhookProject(r)
	if err != nil {
		return err
	}
	if err := svc.Store.ResendWebhookMessage(r.Context(), p.ID, r.PathValue("message")); err != nil {
		return err
	}
	if err := h.recordWebhook(r, p, actionWebhookResend, r.PathValue("webhook")); err != nil {
		return err
	}
	m, err := svc.Store.FindWebhookMessage(r.Context(), p.ID, r.PathValue("message"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, m)
	return nil
}
