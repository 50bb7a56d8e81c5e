package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/store"
)

// Lifecycle deletes recordings, erases and exports users and keeps
// retention settings (*lifecycle.Service); each call is audit-logged with
// the actor of its context.
type Lifecycle interface {
	DeleteSession(ctx context.Context, projectID, sessionID string) (*lifecycle.DeleteResult, error)
	Erase(ctx context.Context, projectID, userID string) (*lifecycle.Certificate, error)
	ExportUser(ctx context.Context, projectID, userID string, w io.Writer) (*lifecycle.ExportManifest, error)
	RetentionSetting(ctx context.Context, orgID, projectID string) (*store.Retention, error)
	ProposeRetention(ctx context.Context, r *store.Retention) (*lifecycle.RetentionImpact, error)
	SetRetention(ctx context.Context, r *store.Retention) error
}

// The data-lifecycle section of the project settings page is its own
// template, rendered to HTML and placed by project.html ({{$d.Lifecycle}}),
// so it does not depend on the page's other sections.
//
//go:embed templates/lifecycle/*.html
var lifecycleFS embed.FS

var lifecycleTmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"days": func(d *int) string {
		if d == nil {
			return ""
		}
		return strconv.Itoa(*d)
	},
	"daysText": func(d *int) string {
		switch {
		case d == nil:
			return "not set (forever)"
		case *d == 0:
			return "forever"
		}
		return strconv.Itoa(*d) + " day(s)"
	},
}).ParseFS(lifecycleFS, "templates/lifecycle/*.html"))

func (h *Handler) lifecycleSvc() (Lifecycle, error) {
	if h.o.Lifecycle == nil {
		return nil, veil.Errorf(veil.EUNAVAILABLE, "Data lifecycle operations are not available on this server.")
	}
	return h.o.Lifecycle, nil
}

type eraseResultKey struct{}

// lifecycleSection renders the project settings page's "Data retention
// and requests" section: the retention in force with its form, a preview
// of a proposed setting (?preview=1&replays_days=…&events_days=…), and
// the erase / export form. It is empty when the server has no lifecycle
// service.
func (h *Handler) lifecycleSection(r *http.Request, p *veil.Project) (template.HTML, error) {
	lc := h.o.Lifecycle
	if lc == nil {
		return "", nil
	}
	ctx := r.Context()
	cur, err := lc.RetentionSetting(ctx, p.OrgID, p.ID)
	if err != nil {
		return "", err
	}
	now, err := lc.ProposeRetention(ctx, cur)
	if err != nil {
		return "", err
	}
	m := Membership(ctx)
	can := func(perm auth.Permission) bool { return m != nil && auth.Can(m.Role, perm) }
	data := map[string]any{
		"Org": p.OrgID, "Project": p, "Setting": cur, "Now": now.Projects[0],
		"CanRetention": can(auth.PermSettingsManage), "CanErase": can(auth.PermProjectManage), "CanExport": can(auth.PermDataExport),
	}
	q := r.URL.Query()
	if r.Method == http.MethodGet && q.Get("preview") == "1" {
		prop, err := formRetention(q.Get, &store.Retention{OrgID: p.OrgID, ProjectID: p.ID})
		if err != nil {
			return "", err
		}
		imp, err := lc.ProposeRetention(ctx, prop)
		if err != nil {
			return "", err
		}
		data["Proposal"], data["Preview"] = prop, imp.Projects[0]
	}
	if c, ok := ctx.Value(eraseResultKey{}).(*lifecycle.Certificate); ok {
		js, _ := json.MarshalIndent(c, "", "  ")
		data["Certificate"], data["CertificateJSON"] = c, string(js)
	}
	pr, _ := ctx.Value(principalKey).(*principal)
	data["CSRF"] = auth.CSRFToken(h.csrfSeed(r, pr))
	var buf bytes.Buffer
	if err := lifecycleTmpl.ExecuteTemplate(&buf, "section.html", data); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}

// formRetention reads the replays_days and events_days fields of a
// retention form (get: a query's or a posted form's Get) into ret.
func formRetention(get func(string) string, ret *store.Retention) (*store.Retention, error) {
	var err error
	if ret.ReplayDays, err = formDays(get("replays_days")); err != nil {
		return nil, err
	}
	if ret.EventDays, err = formDays(get("events_days")); err != nil {
		return nil, err
	}
	return ret, nil
}

// formDays reads a days field: "" inherits, else 0 (forever) to the maximum.
func formDays(v string) (*int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > lifecycle.MaxRetentionDays {
		return nil, veil.Errorf(veil.EINVALID, "Retention is a number of days from 0 (keep forever) to %d, or empty to inherit.", lifecycle.MaxRetentionDays)
	}
	return &n, nil
}

func settingsURL(p *veil.Project) string {
	return "/orgs/" + url.PathEscape(p.OrgID) + "/projects/" + url.PathEscape(p.ID) + "/settings"
}

// deleteSession handles "POST /orgs/{org}/projects/{project}/sessions/{session}/delete":
// crypto-shreds one recording after the form's confirmation box.
func (h *Handler) deleteSession(w http.ResponseWriter, r *http.Request) error {
	lc, err := h.lifecycleSvc()
	if err != nil {
		return err
	}
	p, ds, err := h.project(r)
	if err != nil {
		return err
	}
	s, err := ds.FindSession(r.Context(), p.ID, r.PathValue("session"))
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "yes" {
		return veil.Errorf(veil.EINVALID, "Tick the box to confirm: a deleted recording cannot be restored.")
	}
	if _, err := lc.DeleteSession(r.Context(), p.ID, s.ID); err != nil {
		return err
	}
	return redirect(w, r, "/orgs/"+url.PathEscape(p.OrgID)+"/projects/"+url.PathEscape(p.ID)+"/sessions?deleted=1")
}

// saveRetention handles "POST /orgs/{org}/projects/{project}/retention":
// stores the project's retention (empty fields inherit the org default).
func (h *Handler) saveRetention(w http.ResponseWriter, r *http.Request) error {
	lc, err := h.lifecycleSvc()
	if err != nil {
		return err
	}
	p, _, err := h.project(r)
	if err != nil {
		return err
	}
	set, err := formRetention(r.PostFormValue, &store.Retention{OrgID: p.OrgID, ProjectID: p.ID})
	if err != nil {
		return err
	}
	if err := lc.SetRetention(r.Context(), set); err != nil {
		return err
	}
	return redirect(w, r, settingsURL(p)+"#retention")
}

func formSubject(r *http.Request) (string, error) {
	u := strings.TrimSpace(r.PostFormValue("user_id"))
	switch {
	case u == "":
		return "", veil.Errorf(veil.EINVALID, "Give the user's id, anonymous id or e-mail.")
	case len(u) > 512:
		return "", veil.Errorf(veil.EINVALID, "The user id is at most 512 bytes.")
	}
	return u, nil
}

// eraseUser handles "POST /orgs/{org}/projects/{project}/erase": a GDPR
// erasure; the settings page then shows its certificate.
func (h *Handler) eraseUser(w http.ResponseWriter, r *http.Request) error {
	lc, err := h.lifecycleSvc()
	if err != nil {
		return err
	}
	p, _, err := h.project(r)
	if err != nil {
		return err
	}
	user, err := formSubject(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "yes" {
		return veil.Errorf(veil.EINVALID, "Tick the box to confirm: erased data cannot be restored.")
	}
	c, err := lc.Erase(r.Context(), p.ID, user)
	if err != nil {
		return err
	}
	r = r.WithContext(context.WithValue(r.Context(), eraseResultKey{}, c))
	return h.renderSettings(w, r, http.StatusOK, "User erased: "+strconv.FormatInt(c.Deleted.Sessions, 10)+" session(s) and "+
		strconv.FormatInt(c.Deleted.Events, 10)+" event(s) deleted. Keep the certificate below.", "")
}

// exportUser handles "POST /orgs/{org}/projects/{project}/export-user":
// the user's data as a zip download (built in a private temporary file
// first, so an error is still a page).
func (h *Handler) exportUser(w http.ResponseWriter, r *http.Request) error {
	lc, err := h.lifecycleSvc()
	if err != nil {
		return err
	}
	p, _, err := h.project(r)
	if err != nil {
		return err
	}
	user, err := formSubject(r)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "veil-export-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := lc.ExportUser(r.Context(), p.ID, user, f); err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Disposition", `attachment; filename="veil-user-export-`+p.ID+`.zip"`)
	w.WriteHeader(http.StatusOK)
	io.Copy(w, f)
	return nil
}
