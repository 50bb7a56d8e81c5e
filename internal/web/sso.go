package web

import (
	"net/http"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
)

func (h *Handler) ssoCookie() string {
	if h.o.Secure {
		return "__Host-veil_sso"
	}
	return "veil_sso"
}

func (h *Handler) ssoRedirect() string { return h.o.Origin + "/sso/callback" }

// ssoConfig loads an organisation's enabled SSO set-up and its secret.
// Every failure is 404, so SSO links reveal nothing about organisations.
func (h *Handler) ssoConfig(r *http.Request, orgID string) (*veil.OrgSSO, string, error) {
	notFound := veil.Errorf(veil.ENOTFOUND, "Single sign-on is not set up for this organisation.")
	if h.o.SSO == nil || h.o.Key == nil || h.o.Origin == "" {
		return nil, "", notFound
	}
	cfg, err := h.o.Store.FindOrgSSO(r.Context(), orgID)
	if veil.ErrorCode(err) == veil.ENOTFOUND || (err == nil && !cfg.Enabled) {
		return nil, "", notFound
	} else if err != nil {
		return nil, "", err
	}
	secret, err := auth.OpenSSOSecret(h.o.Key, orgID, cfg.SealedSecret)
	if err != nil {
		return nil, "", err
	}
	return cfg, secret, nil
}

// ssoStart handles "GET /sso/{org}": it sends the browser to the
// organisation's identity provider, keeping the flow's state, nonce and
// PKCE verifier in a sealed, short-lived cookie.
func (h *Handler) ssoStart(w http.ResponseWriter, r *http.Request) error {
	cfg, secret, err := h.ssoConfig(r, r.PathValue("org"))
	if err != nil {
		return err
	}
	authURL, flow, err := h.o.SSO.Begin(r.Context(), cfg, secret, h.ssoRedirect())
	if err != nil {
		return err
	}
	sealed, err := auth.SealFlow(h.o.Key, flow)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: h.ssoCookie(), Value: sealed, Path: "/", MaxAge: int(auth.SSOFlowTimeout.Seconds()),
		HttpOnly: true, Secure: h.o.Secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, authURL, http.StatusSeeOther)
	return nil
}

// ssoCallback handles "GET /sso/callback": it checks the provider's answer
// (state, code with PKCE, ID token with nonce, verified e-mail, allowed
// domain), creates the user and membership on first log-in (default role),
// and starts a session bound to the organisation. A user who already has
// an account but is not a member is refused: an organisation's identity
// provider must not be able to log in to accounts it does not manage.
func (h *Handler) ssoCallback(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := r.Cookie(h.ssoCookie())
	if err != nil || h.o.Key == nil {
		return veil.Errorf(veil.EFORBIDDEN, "Single sign-on failed (no log-in in progress). Start again.")
	}
	http.SetCookie(w, &http.Cookie{Name: h.ssoCookie(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.o.Secure, SameSite: http.SameSiteLaxMode})
	flow, err := auth.OpenFlow(h.o.Key, c.Value)
	if err != nil {
		return err
	}
	fail := func(reason string, err error) error {
		if _, aerr := h.o.Audit.Record(ctx, audit.Entry{OrgID: flow.OrgID, Action: audit.ActionLoginFailure,
			Details: map[string]string{"method": "sso", "reason": reason}}); aerr != nil {
			return aerr
		}
		return err
	}
	if r.URL.Query().Get("error") != "" {
		return fail("provider_error", veil.Errorf(veil.EFORBIDDEN, "The identity provider did not log you in."))
	}
	cfg, secret, err := h.ssoConfig(r, flow.OrgID)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	id, err := h.o.SSO.Finish(ctx, cfg, secret, h.ssoRedirect(), flow, q.Get("state"), q.Get("code"))
	if err != nil {
		if veil.ErrorCode(err) == veil.EUNAVAILABLE || veil.ErrorCode(err) == veil.EINTERNAL {
			return err
		}
		h.log.WarnContext(ctx, "sso log-in refused", "org_id", flow.OrgID, "err", err)
		return fail("refused", err)
	}
	u, err := h.o.Store.FindUserByEmail(ctx, id.Email)
	switch {
	case veil.ErrorCode(err) == veil.ENOTFOUND:
		// First log-in: an account without a password (SSO only).
		u = &veil.User{Email: id.Email}
		if err := h.o.Store.CreateUser(ctx, u); err != nil {
			return err
		}
		if _, err := h.o.Audit.Record(ctx, audit.Entry{OrgID: cfg.OrgID, Action: audit.ActionUserCreate, ObjectKind: "user", ObjectID: u.ID,
			Actor: &audit.Actor{Kind: audit.ActorSystem, ID: "sso", IP: clientIP(r)}, Details: map[string]string{"method": "sso"}}); err != nil {
			return err
		}
		if err := h.o.Store.CreateMembership(ctx, &veil.Membership{OrgID: cfg.OrgID, UserID: u.ID, Role: cfg.DefaultRole}); err != nil {
			return err
		}
		if _, err := h.o.Audit.Record(ctx, audit.Entry{OrgID: cfg.OrgID, Action: audit.ActionMemberAdd, ObjectKind: "user", ObjectID: u.ID,
			Actor: &audit.Actor{Kind: audit.ActorSystem, ID: "sso", IP: clientIP(r)}, Details: map[string]string{"role": string(cfg.DefaultRole), "method": "sso_jit"}}); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if _, err := h.o.Store.FindMembership(ctx, cfg.OrgID, u.ID); veil.ErrorCode(err) == veil.ENOTFOUND {
			return fail("existing_account_not_member", veil.Errorf(veil.EFORBIDDEN,
				"An account with this e-mail already exists and is not a member of this organisation; ask an administrator to add it."))
		} else if err != nil {
			return err
		}
	}
	if old, _ := h.principal(r); old != nil {
		_ = h.o.Sessions.End(ctx, old.session)
	}
	token, s, err := h.o.Sessions.StartForOrg(ctx, u.ID, cfg.OrgID, clientIP(r), r.UserAgent())
	if err != nil {
		return err
	}
	if _, err := h.o.Audit.Record(ctx, audit.Entry{OrgID: cfg.OrgID, Action: audit.ActionLoginSuccess, ObjectKind: "user", ObjectID: u.ID,
		Actor: &audit.Actor{Kind: audit.ActorUser, ID: u.ID, IP: clientIP(r)}, Details: map[string]string{"method": "sso", "session": s.ID}}); err != nil {
		return err
	}
	h.setSession(w, token, s)
	return redirect(w, r, h.returnTo(w, r, "/orgs/"+cfg.OrgID))
}
