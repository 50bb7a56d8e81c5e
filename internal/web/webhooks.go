package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/webhook"
)

// Webhook pages of a project: endpoints (list, create, edit, rotate,
// test, delete) and the delivery log per message with resend. Reading
// needs keys.read (members), changes destinations.manage (admins), as in
// the API. Every endpoint and message is looked up within the request's
// project, so another tenant's id answers 404.

// Audit actions, the same as the API's.
const (
	actionWebhookCreate = "webhook.create"
	actionWebhookUpdate = "webhook.update"
	actionWebhookDelete = "webhook.delete"
	actionWebhookRotate = "webhook.rotate_secret"
	actionWebhookTest   = "webhook.test"
	actionWebhookResend = "webhook.resend"
)

// logSize is how many messages the delivery log shows.
const logSize = 50

// webhookProject is the prologue of every webhook handler: the service
// and the request's project (scoped to the organisation of the URL).
func (h *Handler) webhookProject(r *http.Request) (*webhook.Service, *veil.Project, error) {
	if h.o.Webhooks == nil {
		return nil, nil, veil.Errorf(veil.EUNAVAILABLE, "Webhooks are not available on this server.")
	}
	p, _, err := h.project(r)
	if err != nil {
		return nil, nil, err
	}
	return h.o.Webhooks, p, nil
}

// webhookEndpoint adds the {webhook} of the URL, found in the project.
func (h *Handler) webhookEndpoint(r *http.Request) (*webhook.Service, *veil.Project, *veil.WebhookEndpoint, error) {
	svc, p, err := h.webhookProject(r)
	if err != nil {
		return nil, nil, nil, err
	}
	e, err := svc.Store.FindWebhookEndpoint(r.Context(), p.ID, r.PathValue("webhook"))
	if err != nil {
		return nil, nil, nil, err
	}
	return svc, p, e, nil
}

// webhookMessage adds the {message} of the URL, which must belong to the
// endpoint.
func (h *Handler) webhookMessage(r *http.Request) (*webhook.Service, *veil.Project, *veil.WebhookEndpoint, *veil.WebhookMessage, error) {
	svc, p, e, err := h.webhookEndpoint(r)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	m, err := svc.Store.FindWebhookMessage(r.Context(), p.ID, r.PathValue("message"))
	if err == nil && m.EndpointID != e.ID {
		err = veil.Errorf(veil.ENOTFOUND, "Webhook message not found.")
	}
	return svc, p, e, m, err
}

func (h *Handler) recordWebhook(r *http.Request, p *veil.Project, action, id string) error {
	return audit.Record(r.Context(), audit.Entry{OrgID: p.OrgID, Action: action, ObjectKind: "webhook", ObjectID: id,
		Details: map[string]string{"project": p.ID}})
}

// endpointView is an endpoint as the pages show it.
type endpointView struct {
	*veil.WebhookEndpoint
	Types string // "all events" or a comma-separated list
	State string // enabled, failing, disabled
	Note  string // why (failing since …, disabled reason)
}

func viewEndpoint(e *veil.WebhookEndpoint) endpointView {
	v := endpointView{WebhookEndpoint: e, Types: "all events", State: "enabled"}
	if len(e.EventTypes) > 0 {
		v.Types = strings.Join(e.EventTypes, ", ")
	}
	switch {
	case !e.Enabled:
		v.State, v.Note = "disabled", e.DisabledReason
	case e.FailingSince != nil:
		v.State, v.Note = "failing", "no successful delivery since "+e.FailingSince.UTC().Format("2006-01-02 15:04 UTC")
	}
	return v
}

// typeChoice is one checkbox of the event-type filter.
type typeChoice struct {
	Name    string
	Checked bool
}

func typeChoices(selected []string) []typeChoice {
	out := make([]typeChoice, 0, len(webhook.EventTypes))
	for _, t := range webhook.EventTypes {
		out = append(out, typeChoice{t, slices.Contains(selected, t)})
	}
	return out
}

func (h *Handler) canManageWebhooks(r *http.Request) bool {
	m := Membership(r.Context())
	return m != nil && auth.Can(m.Role, auth.PermDestinationsManage)
}

// webhookList handles "GET /orgs/{org}/projects/{project}/webhooks".
func (h *Handler) webhookList(w http.ResponseWriter, r *http.Request) error {
	return h.renderWebhookList(w, r, http.StatusOK, "", "", nil, "")
}

func (h *Handler) renderWebhookList(w http.ResponseWriter, r *http.Request, status int, flash, formErr string, created *veil.WebhookEndpoint, secret string) error {
	svc, p, err := h.webhookProject(r)
	if err != nil {
		return err
	}
	es, err := svc.Store.ListWebhookEndpoints(r.Context(), p.ID)
	if err != nil {
		return err
	}
	views := make([]endpointView, 0, len(es))
	for _, e := range es {
		views = append(views, viewEndpoint(e))
	}
	d := map[string]any{"Org": p.OrgID, "Project": p, "Endpoints": views, "Types": typeChoices(nil),
		"CanManage": h.canManageWebhooks(r), "Form": url.Values{}}
	if created != nil {
		d["Created"], d["Secret"] = created, secret
	}
	if formErr != "" {
		d["Form"] = r.PostForm // refill the create form
		d["Types"] = typeChoices(r.PostForm["types"])
	}
	return h.render(w, r, status, "webhooks", page{Title: "Webhooks · " + p.Name, Flash: flash, Error: formErr, Data: d})
}

// webhookCreate handles "POST …/webhooks": the new endpoint's secret is
// shown once.
func (h *Handler) webhookCreate(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.webhookProject(r)
	if err != nil {
		return err
	}
	on := r.PostFormValue("enabled") != ""
	e, secret, err := svc.Create(r.Context(), p.ID, webhook.EndpointInput{URL: strings.TrimSpace(r.PostFormValue("url")),
		Description: r.PostFormValue("description"), EventTypes: r.PostForm["types"], Enabled: &on})
	if veil.ErrorCode(err) == veil.EINVALID {
		return h.renderWebhookList(w, r, http.StatusBadRequest, "", veil.ErrorMessage(err), nil, "")
	} else if err != nil {
		return err
	}
	if err := h.recordWebhook(r, p, actionWebhookCreate, e.ID); err != nil {
		return err
	}
	return h.renderWebhookList(w, r, http.StatusCreated, "Endpoint added. Copy its signing secret now: it is not shown again.", "", e, secret)
}

// deliveryView is a message of the delivery log with its latest attempt.
type deliveryView struct {
	*veil.WebhookMessage
	Last *veil.WebhookAttempt
}

// flashes are the fixed notices a redirect may ask for (?done=…).
var flashes = map[string]string{
	"updated": "Endpoint saved.",
	"test":    "Test event queued; it appears in the delivery log below once sent.",
	"resent":  "Message queued again, with the same webhook-id.",
}

// webhookPage handles "GET …/webhooks/{webhook}": the endpoint, its
// settings and its delivery log.
func (h *Handler) webhookPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderWebhookPage(w, r, http.StatusOK, flashes[r.URL.Query().Get("done")], "")
}

func (h *Handler) renderWebhookPage(w http.ResponseWriter, r *http.Request, status int, flash, secret string) error {
	svc, p, e, err := h.webhookEndpoint(r)
	if err != nil {
		return err
	}
	ms, err := svc.Store.ListWebhookMessages(r.Context(), p.ID, e.ID, logSize)
	if err != nil {
		return err
	}
	log := make([]deliveryView, 0, len(ms))
	for _, m := range ms {
		v := deliveryView{WebhookMessage: m}
		if m.Attempts > 0 {
			as, err := svc.Store.ListWebhookAttempts(r.Context(), m.ID)
			if err != nil {
				return err
			}
			if len(as) > 0 {
				v.Last = as[len(as)-1]
			}
		}
		log = append(log, v)
	}
	return h.render(w, r, status, "webhook", page{Title: "Webhook · " + p.Name, Flash: flash, Data: map[string]any{
		"Org": p.OrgID, "Project": p, "E": viewEndpoint(e), "Types": typeChoices(e.EventTypes), "Log": log,
		"Secret": secret, "Now": time.Now(), "CanManage": h.canManageWebhooks(r),
	}})
}

func (h *Handler) webhookURL(p *veil.Project, id string) string {
	return "/orgs/" + p.OrgID + "/projects/" + p.ID + "/webhooks/" + id
}

// webhookEdit handles "POST …/webhooks/{webhook}": description, event
// types and enabled flag.
func (h *Handler) webhookEdit(w http.ResponseWriter, r *http.Request) error {
	svc, p, e, err := h.webhookEndpoint(r)
	if err != nil {
		return err
	}
	if _, err := svc.Edit(r.Context(), p.ID, e.ID, r.PostFormValue("description"), r.PostForm["types"], r.PostFormValue("enabled") != ""); err != nil {
		return err
	}
	if err := h.recordWebhook(r, p, actionWebhookUpdate, e.ID); err != nil {
		return err
	}
	return redirect(w, r, h.webhookURL(p, e.ID)+"?done=updated")
}

// webhookRotate handles "POST …/webhooks/{webhook}/rotate": a new secret,
// shown once; the old one keeps signing for the chosen overlap.
func (h *Handler) webhookRotate(w http.ResponseWriter, r *http.Request) error {
	svc, p, e, err := h.webhookEndpoint(r)
	if err != nil {
		return err
	}
	overlap, err := parseDur(r.PostFormValue("overlap"))
	if err != nil {
		return err
	}
	e, secret, err := svc.Rotate(r.Context(), p.ID, e.ID, overlap)
	if err != nil {
		return err
	}
	if err := h.recordWebhook(r, p, actionWebhookRotate, e.ID); err != nil {
		return err
	}
	flash := "New signing secret below. Copy it now: it is not shown again."
	if e.PrevSecretUntil != nil {
		flash += " The old secret also signs until " + e.PrevSecretUntil.UTC().Format("2006-01-02 15:04 UTC") + "."
	}
	return h.renderWebhookPage(w, r, http.StatusOK, flash, secret)
}

// webhookTest handles "POST …/webhooks/{webhook}/test".
func (h *Handler) webhookTest(w http.ResponseWriter, r *http.Request) error {
	svc, p, e, err := h.webhookEndpoint(r)
	if err != nil {
		return err
	}
	if _, err := svc.SendTest(r.Context(), p.ID, e.ID); err != nil {
		return err
	}
	if err := h.recordWebhook(r, p, actionWebhookTest, e.ID); err != nil {
		return err
	}
	return redirect(w, r, h.webhookURL(p, e.ID)+"?done=test")
}

// webhookDelete handles "POST …/webhooks/{webhook}/delete": the endpoint
// and its delivery log.
func (h *Handler) webhookDelete(w http.ResponseWriter, r *http.Request) error {
	svc, p, e, err := h.webhookEndpoint(r)
	if err != nil {
		return err
	}
	if err := svc.Store.DeleteWebhookEndpoint(r.Context(), p.ID, e.ID); err != nil {
		return err
	}
	if err := h.recordWebhook(r, p, actionWebhookDelete, e.ID); err != nil {
		return err
	}
	return redirect(w, r, "/orgs/"+p.OrgID+"/projects/"+p.ID+"/webhooks")
}

// webhookMessagePage handles "GET …/webhooks/{webhook}/messages/{message}":
// every attempt (time, response code, latency, error, the first bytes of
// the response) and the event type; never the full response.
func (h *Handler) webhookMessagePage(w http.ResponseWriter, r *http.Request) error {
	svc, p, e, m, err := h.webhookMessage(r)
	if err != nil {
		return err
	}
	as, err := svc.Store.ListWebhookAttempts(r.Context(), m.ID)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "webhook_message", page{Title: "Delivery " + m.ID, Data: map[string]any{
		"Org": p.OrgID, "Project": p, "E": viewEndpoint(e), "M": m, "Attempts": as, "CanManage": h.canManageWebhooks(r),
	}})
}

// webhookResend handles "POST …/messages/{message}/resend": the same
// message (same webhook-id) is sent again now.
func (h *Handler) webhookResend(w http.ResponseWriter, r *http.Request) error {
	svc, p, e, m, err := h.webhookMessage(r)
	if err != nil {
		return err
	}
	if err := svc.Store.ResendWebhookMessage(r.Context(), p.ID, m.ID); err != nil {
		return err
	}
	if err := h.recordWebhook(r, p, actionWebhookResend, e.ID); err != nil {
		return err
	}
	return redirect(w, r, h.webhookURL(p, e.ID)+"?done=resent")
}
