package api

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/keyring"
)

// List is the shape of every list response.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// pageOf pages items sorted by key: ?limit= (1–200, default 50) and
// ?cursor= (opaque; the key of the last item of the previous page).
func pageOf[T any](r *http.Request, items []T, key func(T) string) (List[T], error) {
	limit := 50
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return List[T]{}, veil.Errorf(veil.EINVALID, "limit must be between 1 and 200.")
		}
		limit = n
	}
	slices.SortFunc(items, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
	if c := r.URL.Query().Get("cursor"); c != "" {
		after, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			return List[T]{}, veil.Errorf(veil.EINVALID, "cursor is not valid.")
		}
		i, _ := slices.BinarySearchFunc(items, string(after), func(it T, k string) int { return cmp.Compare(key(it), k) })
		for i < len(items) && key(items[i]) <= string(after) {
			i++
		}
		items = items[i:]
	}
	out := List[T]{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(key(items[limit-1])))
	}
	if out.Items == nil {
		out.Items = []T{}
	}
	return out, nil
}

func record(r *http.Request, e audit.Entry) error {
	return audit.Record(r.Context(), e)
}

// OrgView is an organisation with its settings and the caller's role.
type OrgView struct {
	*veil.Org
	Settings veil.OrgSettings `json:"settings"`
	Role     veil.Role        `json:"role"`
}

func (h *Handler) orgView(r *http.Request) (*OrgView, error) {
	c := CallerFrom(r.Context())
	o, err := h.o.Store.FindOrgByID(r.Context(), c.Token.OrgID)
	if err != nil {
		return nil, err
	}
	s, err := h.o.Store.FindOrgSettings(r.Context(), o.ID)
	if err != nil {
		return nil, err
	}
	return &OrgView{Org: o, Settings: *s, Role: c.Role}, nil
}

// listOrgs handles "GET /api/v1/orgs": the token's organisation.
func (h *Handler) listOrgs(w http.ResponseWriter, r *http.Request) error {
	v, err := h.orgView(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, List[*OrgView]{Items: []*OrgView{v}})
	return nil
}

// getOrg handles "GET /api/v1/orgs/{org}".
func (h *Handler) getOrg(w http.ResponseWriter, r *http.Request) error {
	v, err := h.orgView(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// updateOrg handles "PATCH /api/v1/orgs/{org}": settings.
func (h *Handler) updateOrg(w http.ResponseWriter, r *http.Request) error {
	v, err := h.orgView(r)
	if err != nil {
		return err
	}
	var in struct {
		RequireMFA    *bool `json:"require_mfa"`
		RetentionDays *int  `json:"retention_days"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	s := v.Settings
	if in.RequireMFA != nil {
		s.RequireMFA = *in.RequireMFA
	}
	if in.RetentionDays != nil {
		s.RetentionDays = *in.RetentionDays
	}
	if err := h.o.Store.UpdateOrgSettings(r.Context(), v.ID, s); err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: v.ID, Action: audit.ActionSettingsChange, ObjectKind: "org", ObjectID: v.ID,
		Details: map[string]string{"require_mfa": strconv.FormatBool(s.RequireMFA), "retention_days": strconv.Itoa(s.RetentionDays)}}); err != nil {
		return err
	}
	v.Settings = s
	writeJSON(w, http.StatusOK, v)
	return nil
}

// deleteOrg handles "DELETE /api/v1/orgs/{org}" (owners): the organisation,
// its projects (crypto-shredded with their data keys), members and tokens.
func (h *Handler) deleteOrg(w http.ResponseWriter, r *http.Request) error {
	id := CallerFrom(r.Context()).Token.OrgID
	// Record first: if the entry cannot be written, nothing is deleted.
	if err := record(r, audit.Entry{OrgID: id, Action: audit.ActionOrgDelete, ObjectKind: "org", ObjectID: id}); err != nil {
		return err
	}
	if err := h.o.Store.DeleteOrg(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) project(r *http.Request) (*veil.Project, error) {
	return h.o.Store.FindOrgProject(r.Context(), r.PathValue("org"), r.PathValue("project"))
}

// listProjects handles "GET /api/v1/orgs/{org}/projects".
func (h *Handler) listProjects(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.o.Store.ListProjects(r.Context(), r.PathValue("org"))
	if err != nil {
		return err
	}
	l, err := pageOf(r, ps, func(p *veil.Project) string { return p.ID })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// NewProject is the answer to a project creation: the write keys' secrets
// are shown only here.
type NewProject struct {
	Project    *veil.Project `json:"project"`
	BrowserKey string        `json:"browser_key"`
	ServerKey  string        `json:"server_key"`
}

// createProject handles "POST /api/v1/orgs/{org}/projects" (admins).
func (h *Handler) createProject(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name    string   `json:"name"`
		Origins []string `json:"origins"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 100 || strings.ContainsFunc(in.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return veil.Errorf(veil.EINVALID, "Project name is required (at most 100 characters, no control characters).")
	}
	orgID := r.PathValue("org")
	p := &veil.Project{ID: veil.NewID("prj"), OrgID: orgID, Name: in.Name}
	var err error
	if p.WrappedKey, err = h.o.Master.Wrap(keyring.NewDataKey(), h.o.ProjectKeyAAD(orgID, p.ID)); err != nil {
		return err
	}
	if err := h.o.Store.CreateProject(r.Context(), p); err != nil {
		return err
	}
	out := NewProject{Project: p}
	bk, secret, err := h.o.Keys.CreateKey(r.Context(), p.ID, veil.KeyBrowser, in.Origins)
	if err != nil {
		_ = h.o.Store.DeleteProject(r.Context(), orgID, p.ID)
		return err
	}
	out.BrowserKey = secret
	sk, secret, err := h.o.Keys.CreateKey(r.Context(), p.ID, veil.KeyServer, nil)
	if err != nil {
		return err
	}
	out.ServerKey = secret
	for _, e := range []audit.Entry{
		{OrgID: orgID, Action: audit.ActionProjectCreate, ObjectKind: "project", ObjectID: p.ID},
		{OrgID: orgID, Action: audit.ActionKeyCreate, ObjectKind: "key", ObjectID: bk.ID, Details: map[string]string{"project": p.ID, "kind": "browser"}},
		{OrgID: orgID, Action: audit.ActionKeyCreate, ObjectKind: "key", ObjectID: sk.ID, Details: map[string]string{"project": p.ID, "kind": "server"}},
	} {
		if err := record(r, e); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// getProject handles "GET /api/v1/orgs/{org}/projects/{project}".
func (h *Handler) getProject(w http.ResponseWriter, r *http.Request) error {
	p, err := h.project(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// deleteProject handles "DELETE /api/v1/orgs/{org}/projects/{project}"
// (admins). Its data key goes with it, which crypto-shreds its data.
func (h *Handler) deleteProject(w http.ResponseWriter, r *http.Request) error {
	p, err := h.project(r)
	if err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: p.OrgID, Action: audit.ActionProjectDelete, ObjectKind: "project", ObjectID: p.ID}); err != nil {
		return err
	}
	if err := h.o.Store.DeleteProject(r.Context(), p.OrgID, p.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listAudit handles "GET /api/v1/orgs/{org}/audit" (admins): the
// organisation's entries in order; ?cursor= is the last seq seen.
func (h *Handler) listAudit(w http.ResponseWriter, r *http.Request) error {
	limit := 50
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return veil.Errorf(veil.EINVALID, "limit must be between 1 and 200.")
		}
		limit = n
	}
	var after int64
	if c := r.URL.Query().Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			return veil.Errorf(veil.EINVALID, "cursor is not valid.")
		}
		after = n
	}
	es, err := h.o.Store.ListAudit(r.Context(), veil.AuditFilter{OrgID: r.PathValue("org"), AfterSeq: after, Limit: limit + 1})
	if err != nil {
		return err
	}
	out := List[*veil.AuditEntry]{Items: es}
	if len(es) > limit {
		out.Items = es[:limit]
		out.NextCursor = strconv.FormatInt(es[limit-1].Seq, 10)
	}
	if out.Items == nil {
		out.Items = []*veil.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
