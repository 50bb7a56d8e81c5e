package api

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/writekey"
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

// listKeys handles "GET …/projects/{project}/keys" (members).
func (h *Handler) listKeys(w http.ResponseWriter, r *http.Request) error {
	p, err := h.project(r)
	if err != nil {
		return err
	}
	ks, err := h.o.Store.ListKeys(r.Context(), p.ID)
	if err != nil {
		return err
	}
	l, err := pageOf(r, ks, func(k *veil.WriteKey) string { return k.ID })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// NewKey is a created key with its secret, shown only here.
type NewKey struct {
	Key    *veil.WriteKey `json:"key"`
	Secret string         `json:"secret"`
}

// createKey handles "POST …/projects/{project}/keys" (members).
func (h *Handler) createKey(w http.ResponseWriter, r *http.Request) error {
	p, err := h.project(r)
	if err != nil {
		return err
	}
	var in struct {
		Kind    veil.KeyKind `json:"kind"`
		Origins []string     `json:"origins"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	k, secret, err := h.o.Keys.CreateKey(r.Context(), p.ID, in.Kind, in.Origins)
	if err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: p.OrgID, Action: audit.ActionKeyCreate, ObjectKind: "key", ObjectID: k.ID,
		Details: map[string]string{"project": p.ID, "kind": string(k.Kind)}}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NewKey{k, secret})
	return nil
}

func (h *Handler) key(r *http.Request) (*veil.Project, *veil.WriteKey, error) {
	p, err := h.project(r)
	if err != nil {
		return nil, nil, err
	}
	k, err := h.o.Store.FindKey(r.Context(), p.ID, r.PathValue("key"))
	return p, k, err
}

// rotateKey handles "POST …/keys/{key}/rotate?overlap=24h" (members): a
// new key of the same kind and origins; the old one keeps working for the
// overlap (default none, at most 30 days), then is revoked.
func (h *Handler) rotateKey(w http.ResponseWriter, r *http.Request) error {
	p, old, err := h.key(r)
	if err != nil {
		return err
	}
	var overlap time.Duration
	if v := r.URL.Query().Get("overlap"); v != "" {
		if overlap, err = time.ParseDuration(v); err != nil {
			return veil.Errorf(veil.EINVALID, "Query parameter overlap must be a duration such as 24h.")
		}
	}
	k, secret, err := h.o.Keys.RotateKey(r.Context(), p.ID, old, overlap)
	if err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: p.OrgID, Action: audit.ActionKeyRotate, ObjectKind: "key", ObjectID: old.ID,
		Details: map[string]string{"project": p.ID, "new_key": k.ID}}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NewKey{k, secret})
	return nil
}

// revokeKey handles "POST …/keys/{key}/revoke" (members).
func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request) error {
	p, k, err := h.key(r)
	if err != nil {
		return err
	}
	if err := h.o.Keys.RevokeKey(r.Context(), p.ID, k.ID); err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: p.OrgID, Action: audit.ActionKeyRevoke, ObjectKind: "key", ObjectID: k.ID,
		Details: map[string]string{"project": p.ID}}); err != nil {
		return err
	}
	k, err = h.o.Store.FindKey(r.Context(), p.ID, k.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, k)
	return nil
}

// setOrigins handles "PUT …/keys/{key}/origins" (members): the browser
// key's allowed origins.
func (h *Handler) setOrigins(w http.ResponseWriter, r *http.Request) error {
	p, k, err := h.key(r)
	if err != nil {
		return err
	}
	var in struct {
		Origins []string `json:"origins"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if k.Kind != veil.KeyBrowser {
		return veil.Errorf(veil.EINVALID, "Only browser keys have origins.")
	}
	norm, err := normalizeOrigins(in.Origins)
	if err != nil {
		return err
	}
	if err := h.o.Store.UpdateKeyOrigins(r.Context(), p.ID, k.ID, norm); err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: p.OrgID, Action: audit.ActionKeyOrigins, ObjectKind: "key", ObjectID: k.ID,
		Details: map[string]string{"project": p.ID, "origins": strconv.Itoa(len(norm))}}); err != nil {
		return err
	}
	k.Origins = norm
	writeJSON(w, http.StatusOK, k)
	return nil
}

// listMembers handles "GET /api/v1/orgs/{org}/members".
func (h *Handler) listMembers(w http.ResponseWriter, r *http.Request) error {
	ms, err := h.o.Store.ListMembers(r.Context(), r.PathValue("org"))
	if err != nil {
		return err
	}
	l, err := pageOf(r, ms, func(m *veil.Member) string { return m.UserID })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// canGrant enforces that only owners grant, change or remove ownership, and
// nobody grants a role above their own.
func canGrant(caller veil.Role, from, to veil.Role) error {
	if (from == veil.RoleOwner || to == veil.RoleOwner) && !auth.Can(caller, auth.PermOwnersManage) {
		return veil.Errorf(veil.EFORBIDDEN, "Only owners can grant or change the owner role.")
	}
	if to != "" && !auth.AtLeast(caller, to) {
		return veil.Errorf(veil.EFORBIDDEN, "You cannot grant a role above your own.")
	}
	return nil
}

// addMember handles "POST /api/v1/orgs/{org}/members" (admins): an
// existing user, by e-mail, with a role.
func (h *Handler) addMember(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string    `json:"email"`
		Role  veil.Role `json:"role"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if !in.Role.Valid() {
		return veil.Errorf(veil.EINVALID, "role must be owner, admin, member or viewer.")
	}
	if err := canGrant(CallerFrom(r.Context()).Role, "", in.Role); err != nil {
		return err
	}
	orgID := r.PathValue("org")
	u, err := h.o.Store.FindUserByEmail(r.Context(), in.Email)
	if err != nil {
		return err
	}
	if err := h.o.Store.CreateMembership(r.Context(), &veil.Membership{OrgID: orgID, UserID: u.ID, Role: in.Role}); err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: orgID, Action: audit.ActionMemberAdd, ObjectKind: "user", ObjectID: u.ID,
		Details: map[string]string{"role": string(in.Role)}}); err != nil {
		return err
	}
	m, err := h.o.Store.FindMember(r.Context(), orgID, u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

// updateMember handles "PATCH /api/v1/orgs/{org}/members/{user}" (admins).
func (h *Handler) updateMember(w http.ResponseWriter, r *http.Request) error {
	orgID := r.PathValue("org")
	m, err := h.o.Store.FindMember(r.Context(), orgID, r.PathValue("user"))
	if err != nil {
		return err
	}
	var in struct {
		Role veil.Role `json:"role"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if !in.Role.Valid() {
		return veil.Errorf(veil.EINVALID, "role must be owner, admin, member or viewer.")
	}
	if err := canGrant(CallerFrom(r.Context()).Role, m.Role, in.Role); err != nil {
		return err
	}
	if err := h.o.Store.UpdateMemberRole(r.Context(), orgID, m.UserID, in.Role); err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: orgID, Action: audit.ActionMemberRole, ObjectKind: "user", ObjectID: m.UserID,
		Details: map[string]string{"from": string(m.Role), "to": string(in.Role)}}); err != nil {
		return err
	}
	m.Role = in.Role
	writeJSON(w, http.StatusOK, m)
	return nil
}

// removeMember handles "DELETE /api/v1/orgs/{org}/members/{user}" (admins).
func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request) error {
	orgID := r.PathValue("org")
	m, err := h.o.Store.FindMember(r.Context(), orgID, r.PathValue("user"))
	if err != nil {
		return err
	}
	if err := canGrant(CallerFrom(r.Context()).Role, m.Role, ""); err != nil {
		return err
	}
	if err := h.o.Store.DeleteMember(r.Context(), orgID, m.UserID); err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: orgID, Action: audit.ActionMemberRemove, ObjectKind: "user", ObjectID: m.UserID,
		Details: map[string]string{"role": string(m.Role)}}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listTokens handles "GET /api/v1/orgs/{org}/tokens" (admins).
func (h *Handler) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := h.o.Store.ListAPITokens(r.Context(), r.PathValue("org"))
	if err != nil {
		return err
	}
	l, err := pageOf(r, ts, func(t *veil.APIToken) string { return t.ID })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// NewToken is a created token with its secret, shown only here.
type NewToken struct {
	Token  *veil.APIToken `json:"token"`
	Secret string         `json:"secret"`
}

// createToken handles "POST /api/v1/orgs/{org}/tokens" (admins): never
// with a role above the caller's. A token made through the API is tied to
// the user who made the calling token, if any.
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request) error {
	c := CallerFrom(r.Context())
	var in struct {
		Name      string     `json:"name"`
		Role      veil.Role  `json:"role"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if !in.Role.Valid() {
		return veil.Errorf(veil.EINVALID, "role must be owner, admin, member or viewer.")
	}
	if !auth.AtLeast(c.Role, in.Role) {
		return veil.Errorf(veil.EFORBIDDEN, "You cannot create a token with a role above your own.")
	}
	secret, tok, err := h.o.Tokens.Create(r.Context(), c.Token.OrgID, c.Token.UserID, in.Name, in.Role, in.ExpiresAt)
	if err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: tok.OrgID, Action: audit.ActionTokenCreate, ObjectKind: "token", ObjectID: tok.ID,
		Details: map[string]string{"role": string(tok.Role)}}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NewToken{tok, secret})
	return nil
}

// revokeToken handles "DELETE /api/v1/orgs/{org}/tokens/{token}" (admins).
func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request) error {
	orgID, id := r.PathValue("org"), r.PathValue("token")
	if err := h.o.Tokens.Store.RevokeAPIToken(r.Context(), orgID, id, h.o.Now()); err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: orgID, Action: audit.ActionTokenRevoke, ObjectKind: "token", ObjectID: id}); err != nil {
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

func normalizeOrigins(in []string) ([]string, error) {
	out := []string{}
	for _, o := range in {
		n, err := writekey.NormalizeOrigin(o)
		if err != nil {
			return nil, veil.Errorf(veil.EINVALID, "%s", err.Error())
		}
		out = append(out, n)
	}
	return out, nil
}
