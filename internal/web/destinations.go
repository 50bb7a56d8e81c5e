package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/store"
)

// Destination pages of a project (docs/data-lifecycle.md section 6): the
// list with push status and alerts, add (S3 or SFTP), a destination's
// page with its recent pushes, edit (destination_edit.go), test and remove. Reading needs keys.read
// (members), changes destinations.manage (admins), as in the API, and
// they are audit-logged with the API's actions. Secrets are write-only:
// accepted by the add and edit forms, sealed by the service, never
// rendered (not even back into a form that failed validation). Every destination is
// looked up within the request's project, so another tenant's id is 404.

// Destinations manages destinations (*destination.Service).
type Destinations interface {
	Create(ctx context.Context, projectID string, in destination.Input) (*destination.View, error)
	List(ctx context.Context, projectID string) ([]*destination.View, error)
	Find(ctx context.Context, projectID, id string) (*destination.View, error)
	Update(ctx context.Context, projectID, id string, u destination.Update) (*destination.Updated, error)
	Remove(ctx context.Context, projectID, id string) error
	Test(ctx context.Context, projectID, id string) (*destination.TestResult, error)
	SetPaused(ctx context.Context, projectID, id string, paused bool) (*destination.View, error)
}

// pushLog lists a destination's recent pushes (*store.DB).
type pushLog interface {
	ListDestinationPushes(ctx context.Context, projectID, destinationID string, limit int) ([]*store.DestinationPush, error)
}

// Audit actions, the same as the API's.
const (
	actionDestinationCreate = "destination.create"
	actionDestinationDelete = "destination.delete"
	actionDestinationTest   = "destination.test"
	actionDestinationPause  = "destination.pause"
	actionDestinationResume = "destination.resume"
)

// pushLogSize is how many pushes a destination's page shows.
const pushLogSize = 50

// secretFields are the form fields that carry credentials: never echoed.
var secretFields = []string{"access_key_id", "secret_access_key", "session_token", "password", "private_key"}

func (h *Handler) destinationProject(r *http.Request) (Destinations, *veil.Project, error) {
	if h.o.Destinations == nil {
		return nil, nil, veil.Errorf(veil.EUNAVAILABLE, "Destinations are not available on this server.")
	}
	p, _, err := h.project(r)
	if err != nil {
		return nil, nil, err
	}
	return h.o.Destinations, p, nil
}

// destinationOf adds the {destination} of the URL, found in the project.
func (h *Handler) destinationOf(r *http.Request) (Destinations, *veil.Project, *destination.View, error) {
	svc, p, err := h.destinationProject(r)
	if err != nil {
		return nil, nil, nil, err
	}
	v, err := svc.Find(r.Context(), p.ID, r.PathValue("destination"))
	if err != nil {
		return nil, nil, nil, err
	}
	return svc, p, v, nil
}

func (h *Handler) recordDestination(r *http.Request, p *veil.Project, action, id string, details map[string]string) error {
	d := map[string]string{"project": p.ID}
	for k, v := range details {
		d[k] = v
	}
	return audit.Record(r.Context(), audit.Entry{OrgID: p.OrgID, Action: action, ObjectKind: "destination", ObjectID: id, Details: d})
}

func canManageDestinations(r *http.Request) bool {
	m := Membership(r.Context())
	return m != nil && auth.Can(m.Role, auth.PermDestinationsManage)
}

func destinationsURL(p *veil.Project) string {
	return "/orgs/" + url.PathEscape(p.OrgID) + "/projects/" + url.PathEscape(p.ID) + "/destinations"
}

// destinationList handles "GET /orgs/{org}/projects/{project}/destinations".
func (h *Handler) destinationList(w http.ResponseWriter, r *http.Request) error {
	flash := ""
	if r.URL.Query().Get("removed") == "1" {
		flash = "Destination removed. Its pending pushes were dropped; stubs of recordings already pushed there stay."
	}
	return h.renderDestinations(w, r, http.StatusOK, flash, "", "")
}

// renderDestinations renders the list page; after a failed add, formKind
// names the form to refill (without its secrets).
func (h *Handler) renderDestinations(w http.ResponseWriter, r *http.Request, status int, flash, formErr, formKind string) error {
	svc, p, err := h.destinationProject(r)
	if err != nil {
		return err
	}
	list, err := svc.List(r.Context(), p.ID)
	if err != nil {
		return err
	}
	alerts := 0
	for _, v := range list {
		if v.Alert != "" {
			alerts++
		}
	}
	forms := map[string]url.Values{destination.KindS3: {}, destination.KindSFTP: {}}
	if formKind != "" {
		refill := url.Values{}
		for k, v := range r.PostForm {
			refill[k] = v
		}
		for _, f := range secretFields {
			refill.Del(f)
		}
		forms[formKind] = refill
	}
	return h.render(w, r, status, "destinations", page{Title: "Destinations · " + p.Name, Flash: flash, Error: formErr, Data: map[string]any{
		"Org": p.OrgID, "Project": p, "List": list, "Alerts": alerts, "CanManage": canManageDestinations(r),
		"S3": forms[destination.KindS3], "SFTP": forms[destination.KindSFTP],
	}})
}

// destinationInput reads the add form of one kind.
func destinationInput(f url.Values) (destination.Input, error) {
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	in := destination.Input{Name: get("name"), Kind: get("kind"), Mode: get("mode"), AgeRecipient: get("age_recipient")}
	switch in.Kind {
	case destination.KindS3:
		in.S3 = &destination.S3Config{Bucket: get("bucket"), Prefix: get("prefix"), Region: get("region"), Endpoint: get("endpoint"),
			PathStyle: f.Get("path_style") != "", SSE: get("sse"), KMSKeyID: get("kms_key_id")}
		in.Secrets = destination.Secrets{AccessKeyID: get("access_key_id"), SecretAccessKey: f.Get("secret_access_key"),
			SessionToken: f.Get("session_token")}
	case destination.KindSFTP:
		port := 0
		if s := get("port"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return in, veil.Errorf(veil.EINVALID, "Port must be a number.")
			}
			port = n
		}
		in.SFTP = &destination.SFTPConfig{Host: get("host"), Port: port, User: get("user"), Dir: get("dir"), HostKey: get("host_key")}
		in.Secrets = destination.Secrets{Password: f.Get("password"), PrivateKey: f.Get("private_key")}
	}
	return in, nil
}

// destinationCreate handles "POST …/destinations" (admins).
func (h *Handler) destinationCreate(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.destinationProject(r)
	if err != nil {
		return err
	}
	kind := r.PostFormValue("kind")
	if kind != destination.KindS3 && kind != destination.KindSFTP {
		return veil.Errorf(veil.EINVALID, "Kind must be %q or %q.", destination.KindS3, destination.KindSFTP)
	}
	in, err := destinationInput(r.PostForm)
	if err == nil {
		var v *destination.View
		if v, err = svc.Create(r.Context(), p.ID, in); err == nil {
			if err := h.recordDestination(r, p, actionDestinationCreate, v.ID, map[string]string{"kind": v.Kind, "mode": v.Mode}); err != nil {
				return err
			}
			return redirect(w, r, destinationsURL(p)+"/"+url.PathEscape(v.ID)+"?done=added")
		}
	}
	if veil.ErrorCode(err) == veil.EINVALID {
		return h.renderDestinations(w, r, http.StatusBadRequest, "", veil.ErrorMessage(err), kind)
	}
	return err
}

// destinationPage handles "GET …/destinations/{destination}": settings
// (never secrets), push counts, alert and the recent pushes.
func (h *Handler) destinationPage(w http.ResponseWriter, r *http.Request) error {
	flash := map[string]string{
		"added":     "Destination added. Test it now: Veil writes, reads back and deletes a small probe object.",
		"paused":    "Destination paused: nothing is pushed to it, and Veil keeps every recording until it is resumed or removed.",
		"resumed":   "Destination resumed: the next push run (every 30 s) catches up.",
		"updated":   "Destination saved. Pending and retrying pushes use the new settings at the next push run (every 30 s); pushes already done keep where they went.",
		"unchanged": "Nothing changed.",
	}[r.URL.Query().Get("done")]
	return h.renderDestination(w, r, http.StatusOK, flash, nil, &editForm{Open: r.URL.Query().Get("edit") == "1"})
}

// testOutcome is what the page shows after "Test".
type testOutcome struct {
	*destination.TestResult
	OK    bool
	Error string
}

// renderDestination renders a destination's page; edit is the edit form's
// state (nil: closed, filled from the destination).
func (h *Handler) renderDestination(w http.ResponseWriter, r *http.Request, status int, flash string, test *testOutcome, edit *editForm) error {
	_, p, v, err := h.destinationOf(r)
	if err != nil {
		return err
	}
	if edit == nil {
		edit = &editForm{}
	}
	if edit.Values == nil {
		edit.Values = editValues(v)
	}
	var pushes []*store.DestinationPush
	if pl, ok := h.o.Store.(pushLog); ok {
		if pushes, err = pl.ListDestinationPushes(r.Context(), p.ID, v.ID, pushLogSize); err != nil {
			return err
		}
	}
	return h.render(w, r, status, "destination", page{Title: "Destination · " + p.Name, Flash: flash, Data: map[string]any{
		"Org": p.OrgID, "Project": p, "D": v, "Pushes": pushes, "Test": test, "CanManage": canManageDestinations(r), "Edit": edit,
	}})
}

// destinationTest handles "POST …/destinations/{destination}/test"
// (admins): the probe's outcome on the destination's page; a failed probe
// is a normal answer showing the error.
func (h *Handler) destinationTest(w http.ResponseWriter, r *http.Request) error {
	svc, p, v, err := h.destinationOf(r)
	if err != nil {
		return err
	}
	res, err := svc.Test(r.Context(), p.ID, v.ID)
	out := &testOutcome{TestResult: res, OK: err == nil}
	if err != nil {
		// The message names the host, key fingerprints or the S3 error;
		// never credentials or recorded data.
		out.Error = err.Error()
	}
	if err := h.recordDestination(r, p, actionDestinationTest, v.ID, map[string]string{"ok": strconv.FormatBool(out.OK)}); err != nil {
		return err
	}
	return h.renderDestination(w, r, http.StatusOK, "", out, nil)
}

// destinationDelete handles "POST …/destinations/{destination}/delete"
// (admins, after the confirmation box).
func (h *Handler) destinationDelete(w http.ResponseWriter, r *http.Request) error {
	svc, p, v, err := h.destinationOf(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "yes" {
		return veil.Errorf(veil.EINVALID, "Tick the box to confirm removing the destination.")
	}
	if err := svc.Remove(r.Context(), p.ID, v.ID); err != nil {
		return err
	}
	if err := h.recordDestination(r, p, actionDestinationDelete, v.ID, nil); err != nil {
		return err
	}
	return redirect(w, r, destinationsURL(p)+"?removed=1")
}

// destinationPause handles "POST …/destinations/{destination}/pause"
// (admins).
func (h *Handler) destinationPause(w http.ResponseWriter, r *http.Request) error {
	return h.setDestinationPaused(w, r, true)
}

// destinationResume handles "POST …/destinations/{destination}/resume"
// (admins).
func (h *Handler) destinationResume(w http.ResponseWriter, r *http.Request) error {
	return h.setDestinationPaused(w, r, false)
}

func (h *Handler) setDestinationPaused(w http.ResponseWriter, r *http.Request, paused bool) error {
	svc, p, v, err := h.destinationOf(r)
	if err != nil {
		return err
	}
	if _, err := svc.SetPaused(r.Context(), p.ID, v.ID, paused); err != nil {
		return err
	}
	action, done := actionDestinationResume, "resumed"
	if paused {
		action, done = actionDestinationPause, "paused"
	}
	if err := h.recordDestination(r, p, action, v.ID, nil); err != nil {
		return err
	}
	return redirect(w, r, destinationsURL(p)+"/"+url.PathEscape(v.ID)+"?done="+done)
}
