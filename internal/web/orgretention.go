package web

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"

	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/store"
)

// The organisation page's "Default data retention" section: the org
// default that every project without its own setting inherits, what the
// hourly job deletes now under it per project, and (admins) a form that
// previews a proposed default — per project and in total, honouring
// projects' own overrides — before anything is saved, as the project
// retention form does (lifecycle.go).

// orgProjectImpact is one project's line of the section.
type orgProjectImpact struct {
	Name string
	*lifecycle.Preview
}

// orgRetentionSection renders the section; a GET with ?preview=1 adds
// the preview of ?replays_days=…&events_days=…. Empty without a
// lifecycle service.
func (h *Handler) orgRetentionSection(r *http.Request, d *orgData) (template.HTML, error) {
	lc := h.o.Lifecycle
	if lc == nil {
		return "", nil
	}
	ctx := r.Context()
	names := map[string]string{}
	for _, p := range d.Projects {
		names[p.ID] = p.Name
	}
	lines := func(imp *lifecycle.RetentionImpact) []orgProjectImpact {
		out := make([]orgProjectImpact, 0, len(imp.Projects))
		for _, pv := range imp.Projects {
			out = append(out, orgProjectImpact{Name: names[pv.Policy.ProjectID], Preview: pv})
		}
		return out
	}
	cur, err := lc.RetentionSetting(ctx, d.Org.ID, "")
	if err != nil {
		return "", err
	}
	now, err := lc.ProposeRetention(ctx, cur)
	if err != nil {
		return "", err
	}
	data := map[string]any{"Org": d.Org.ID, "Setting": cur, "Now": lines(now), "NowTotal": now.Total,
		"CanRetention": auth.Can(d.Role, auth.PermSettingsManage)}
	q := r.URL.Query()
	if q.Get("preview") == "1" && data["CanRetention"] == true {
		prop, err := formRetention(q.Get, &store.Retention{OrgID: d.Org.ID})
		if err != nil {
			return "", err
		}
		imp, err := lc.ProposeRetention(ctx, prop)
		if err != nil {
			return "", err
		}
		data["Proposal"], data["Preview"], data["PreviewTotal"] = prop, lines(imp), imp.Total
	}
	pr, _ := ctx.Value(principalKey).(*principal)
	data["CSRF"] = auth.CSRFToken(h.csrfSeed(r, pr))
	var buf bytes.Buffer
	if err := lifecycleTmpl.ExecuteTemplate(&buf, "org.html", data); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}

// saveOrgRetention handles "POST /orgs/{org}/retention" (admins): stores
// the organisation default (empty fields: not set, i.e. keep forever
// unless a project sets its own); audit-logged as retention.change by the
// service.
func (h *Handler) saveOrgRetention(w http.ResponseWriter, r *http.Request) error {
	lc, err := h.lifecycleSvc()
	if err != nil {
		return err
	}
	orgID := Membership(r.Context()).OrgID
	set, err := formRetention(r.PostFormValue, &store.Retention{OrgID: orgID})
	if err != nil {
		return err
	}
	if err := lc.SetRetention(r.Context(), set); err != nil {
		return err
	}
	return redirect(w, r, "/orgs/"+url.PathEscape(orgID)+"?saved=retention#org-retention")
}
