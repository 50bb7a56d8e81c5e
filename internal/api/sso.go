package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
)

// getSSO handles "GET /api/v1/orgs/{org}/sso" (admins): the set-up,
// without the client secret.
func (h *Handler) getSSO(w http.ResponseWriter, r *http.Request) error {
	s, err := h.o.Store.FindOrgSSO(r.Context(), r.PathValue("org"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

// putSSO handles "PUT /api/v1/orgs/{org}/sso" (admins): issuer (its
// discovery document must be reachable), client id and secret (stored
// sealed), allowed e-mail domains and the role given on first log-in
// (never owner, never above the caller's).
func (h *Handler) putSSO(w http.ResponseWriter, r *http.Request) error {
	orgID := r.PathValue("org")
	var in struct {
		Issuer         string    `json:"issuer"`
		ClientID       string    `json:"client_id"`
		ClientSecret   *string   `json:"client_secret"`
		AllowedDomains []string  `json:"allowed_domains"`
		DefaultRole    veil.Role `json:"default_role"`
		Enabled        bool      `json:"enabled"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := url.Parse(in.Issuer)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) || u.Host == "" {
		return veil.Errorf(veil.EINVALID, "issuer must be an https:// URL.")
	}
	if in.ClientID == "" || len(in.ClientID) > 200 {
		return veil.Errorf(veil.EINVALID, "client_id is required.")
	}
	if in.DefaultRole == "" {
		in.DefaultRole = veil.RoleViewer
	}
	if !in.DefaultRole.Valid() || in.DefaultRole == veil.RoleOwner {
		return veil.Errorf(veil.EINVALID, "default_role must be admin, member or viewer.")
	}
	if !auth.AtLeast(CallerFrom(r.Context()).Role, in.DefaultRole) {
		return veil.Errorf(veil.EFORBIDDEN, "You cannot make a default role above your own.")
	}
	if len(in.AllowedDomains) == 0 || len(in.AllowedDomains) > 50 {
		return veil.Errorf(veil.EINVALID, "allowed_domains must list 1 to 50 e-mail domains.")
	}
	for i, d := range in.AllowedDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || strings.ContainsAny(d, "@/ ") || !strings.Contains(d, ".") {
			return veil.Errorf(veil.EINVALID, "allowed_domains: %q is not a domain.", d)
		}
		in.AllowedDomains[i] = d
	}
	s := &veil.OrgSSO{OrgID: orgID, Issuer: in.Issuer, ClientID: in.ClientID, AllowedDomains: in.AllowedDomains,
		DefaultRole: in.DefaultRole, Enabled: in.Enabled}
	switch old, err := h.o.Store.FindOrgSSO(r.Context(), orgID); {
	case in.ClientSecret != nil:
		if s.SealedSecret, err = auth.SealSSOSecret(h.o.SecretKey, orgID, *in.ClientSecret); err != nil {
			return err
		}
	case err == nil:
		s.SealedSecret = old.SealedSecret // keep the stored secret
	case veil.ErrorCode(err) == veil.ENOTFOUND:
		return veil.Errorf(veil.EINVALID, "client_secret is required the first time.")
	default:
		return err
	}
	if err := h.o.Store.PutOrgSSO(r.Context(), s); err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: orgID, Action: audit.ActionSSOChange, ObjectKind: "org", ObjectID: orgID,
		Details: map[string]string{"enabled": strconv.FormatBool(s.Enabled), "default_role": string(s.DefaultRole),
			"secret_changed": strconv.FormatBool(in.ClientSecret != nil)}}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
