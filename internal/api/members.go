package api

import (
	"net/http"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
)

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
