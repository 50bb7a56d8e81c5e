package web

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
)

type orgData struct {
	Org         *veil.Org
	Role        veil.Role
	Settings    *veil.OrgSettings
	Projects    []*veil.Project
	Members     []*veil.Member
	CanSettings bool
	CanAudit    bool
	Audit       []*veil.AuditEntry
	NextAfter   int64
	Retention   template.HTML     // the default retention section (orgretention.go)
	Emails      map[string]string // audit: member user id -> e-mail
}

func (h *Handler) loadOrg(r *http.Request) (*orgData, error) {
	ctx := r.Context()
	m := Membership(ctx)
	org, err := h.o.Store.FindOrgByID(ctx, m.OrgID)
	if err != nil {
		return nil, err
	}
	s, err := h.o.Store.FindOrgSettings(ctx, m.OrgID)
	if err != nil {
		return nil, err
	}
	return &orgData{Org: org, Role: m.Role, Settings: s,
		CanSettings: auth.Can(m.Role, auth.PermSettingsManage), CanAudit: auth.Can(m.Role, auth.PermAuditRead)}, nil
}

// orgPage handles "GET /orgs/{org}": projects, members and settings.
func (h *Handler) orgPage(w http.ResponseWriter, r *http.Request) error {
	d, err := h.loadOrg(r)
	if err != nil {
		return err
	}
	if d.Projects, err = h.o.Store.ListProjects(r.Context(), d.Org.ID); err != nil {
		return err
	}
	if d.Members, err = h.o.Store.ListMembers(r.Context(), d.Org.ID); err != nil {
		return err
	}
	if d.Retention, err = h.orgRetentionSection(r, d); err != nil {
		return err
	}
	flash := ""
	if r.URL.Query().Get("saved") == "retention" {
		flash = "Default retention saved. The hourly job applies it."
	}
	return h.render(w, r, http.StatusOK, "org", page{Title: d.Org.Name, Flash: flash, Data: d})
}

// orgSettings handles "POST /orgs/{org}/settings" (admins): require MFA.
// The legacy retention_days field (the API's org "retention_days", which
// the retention job does not read) is kept unless the form sends it; the
// retention the job applies is set by POST /orgs/{org}/retention.
func (h *Handler) orgSettings(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	d, err := h.loadOrg(r)
	if err != nil {
		return err
	}
	days := d.Settings.RetentionDays
	if v := strings.TrimSpace(r.PostFormValue("retention_days")); v != "" {
		if days, err = strconv.Atoi(v); err != nil {
			return veil.Errorf(veil.EINVALID, "Retention must be a number of days.")
		}
	}
	s := veil.OrgSettings{RequireMFA: r.PostFormValue("require_mfa") == "on", RetentionDays: days}
	if err := h.o.Store.UpdateOrgSettings(ctx, d.Org.ID, s); err != nil {
		return err
	}
	if _, err := h.o.Audit.Record(ctx, audit.Entry{OrgID: d.Org.ID, Action: audit.ActionSettingsChange, ObjectKind: "org", ObjectID: d.Org.ID,
		Details: map[string]string{"require_mfa": strconv.FormatBool(s.RequireMFA), "retention_days": strconv.Itoa(s.RetentionDays)}}); err != nil {
		return err
	}
	return redirect(w, r, "/orgs/"+d.Org.ID)
}

// orgAudit handles "GET /orgs/{org}/audit" (admins): the organisation's
// audit entries, 100 per page (?after=SEQ).
func (h *Handler) orgAudit(w http.ResponseWriter, r *http.Request) error {
	d, err := h.loadOrg(r)
	if err != nil {
		return err
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if d.Audit, err = h.o.Store.ListAudit(r.Context(), veil.AuditFilter{OrgID: d.Org.ID, AfterSeq: after, Limit: 100}); err != nil {
		return err
	}
	if len(d.Audit) == 100 {
		d.NextAfter = d.Audit[99].Seq
	}
	// Actors shown by e-mail where they are members (ids are unreadable).
	ms, err := h.o.Store.ListMembers(r.Context(), d.Org.ID)
	if err != nil {
		return err
	}
	d.Emails = make(map[string]string, len(ms))
	for _, m := range ms {
		d.Emails[m.UserID] = m.Email
	}
	return h.render(w, r, http.StatusOK, "audit", page{Title: "Audit log — " + d.Org.Name, Data: d})
}
