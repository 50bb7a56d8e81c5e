package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
)

// loginPage handles "GET /login".
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) error {
	if p, _ := h.principal(r); p != nil && !p.session.MFAPending {
		return redirect(w, r, h.returnTo(w, r, "/account"))
	}
	return h.render(w, r, http.StatusOK, "login", page{Title: "Log in"})
}

// loginSubmit handles "POST /login": e-mail and password, then either a
// full session or, with MFA enabled, a short MFA-pending one. Any session
// the browser had is ended and a new token issued (no session fixation).
func (h *Handler) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	email := strings.TrimSpace(r.PostFormValue("email"))
	u, err := h.o.Login.Authenticate(ctx, email, r.PostFormValue("password"), clientIP(r))
	if err != nil {
		var (
			te *auth.ThrottledError
			fl *auth.FailedLogin
		)
		e := audit.Entry{Action: audit.ActionLoginFailure, Details: map[string]string{"reason": "unknown_account"}}
		switch {
		case veil.ErrorCode(err) == veil.EINTERNAL:
			return err
		case errors.As(err, &te):
			e = audit.Entry{Action: audit.ActionLoginLocked, Details: map[string]string{"scope": te.Scope}}
		case errors.As(err, &fl):
			e = audit.Entry{Action: audit.ActionLoginFailure, ObjectKind: "user", ObjectID: fl.UserID, Details: map[string]string{"reason": "wrong_password"}}
		}
		// The attempted e-mail is not recorded: it may be a password typed
		// in the wrong field. Only a known account's id is.
		if _, aerr := h.o.Audit.Record(ctx, e); aerr != nil {
			return aerr
		}
		status := http.StatusUnauthorized
		if te != nil {
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", itoa(int(te.RetryAfter.Seconds())+1))
		}
		return h.render(w, r, status, "login", page{Title: "Log in", Error: veil.ErrorMessage(err), Data: map[string]string{"Email": email}})
	}
	if old, _ := h.principal(r); old != nil {
		_ = h.o.Sessions.End(ctx, old.session)
	}
	mfa, err := h.mfaEnabled(ctx, u.ID)
	if err != nil {
		return err
	}
	token, s, err := h.o.Sessions.Start(ctx, u.ID, clientIP(r), r.UserAgent(), mfa)
	if err != nil {
		return err
	}
	actor := &audit.Actor{Kind: audit.ActorUser, ID: u.ID, IP: clientIP(r)}
	if mfa {
		if _, err := h.o.Audit.Record(ctx, audit.Entry{Action: audit.ActionLoginPassword, Actor: actor, ObjectKind: "user", ObjectID: u.ID}); err != nil {
			return err
		}
		h.setSession(w, token, s)
		return redirect(w, r, "/login/mfa")
	}
	if _, err := h.o.Audit.Record(ctx, audit.Entry{Action: audit.ActionLoginSuccess, Actor: actor, ObjectKind: "user", ObjectID: u.ID,
		Details: map[string]string{"session": s.ID, "mfa": "no"}}); err != nil {
		return err
	}
	h.setSession(w, token, s)
	return redirect(w, r, h.returnTo(w, r, "/account"))
}

type mfaPageData struct{ TOTP, Passkey bool }

func (h *Handler) mfaPageData(r *http.Request) (mfaPageData, error) {
	var d mfaPageData
	var err error
	uid := current(r).user.ID
	if d.TOTP, err = h.o.MFA.Enabled(r.Context(), uid); err != nil {
		return d, err
	}
	if h.o.Passkeys != nil {
		d.Passkey, err = h.o.Passkeys.Has(r.Context(), uid)
	}
	return d, err
}

// mfaPage handles "GET /login/mfa".
func (h *Handler) mfaPage(w http.ResponseWriter, r *http.Request) error {
	d, err := h.mfaPageData(r)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "login_mfa", page{Title: "Two-factor authentication", Data: d})
}

// mfaSubmit handles "POST /login/mfa": a TOTP or recovery code turns the
// pending session into a full one, with a new token.
func (h *Handler) mfaSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := r.Context().Value(principalKey).(*principal)
	recovery, err := h.o.MFA.Verify(ctx, p.user.ID, r.PostFormValue("code"))
	if err != nil {
		if veil.ErrorCode(err) == veil.EINTERNAL {
			return err
		}
		if _, aerr := h.o.Audit.Record(ctx, audit.Entry{Action: audit.ActionLoginFailure, ObjectKind: "user", ObjectID: p.user.ID,
			Details: map[string]string{"reason": "bad_mfa_code"}}); aerr != nil {
			return aerr
		}
		var te *auth.ThrottledError
		status := http.StatusUnauthorized
		if errors.As(err, &te) {
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", itoa(int(te.RetryAfter.Seconds())+1))
		}
		d, derr := h.mfaPageData(r)
		if derr != nil {
			return derr
		}
		return h.render(w, r, status, "login_mfa", page{Title: "Two-factor authentication", Error: veil.ErrorMessage(err), Data: d})
	}
	if err := h.o.Sessions.End(ctx, p.session); err != nil {
		return err
	}
	token, s, err := h.o.Sessions.Start(ctx, p.user.ID, clientIP(r), r.UserAgent(), false)
	if err != nil {
		return err
	}
	details := map[string]string{"session": s.ID, "mfa": "totp"}
	if recovery {
		details["mfa"] = "recovery_code"
		if _, err := h.o.Audit.Record(ctx, audit.Entry{Action: audit.ActionMFARecoveryUsed, ObjectKind: "user", ObjectID: p.user.ID}); err != nil {
			return err
		}
	}
	if _, err := h.o.Audit.Record(ctx, audit.Entry{Action: audit.ActionLoginSuccess, ObjectKind: "user", ObjectID: p.user.ID, Details: details}); err != nil {
		return err
	}
	h.setSession(w, token, s)
	return redirect(w, r, h.returnTo(w, r, "/account"))
}

// logout handles "POST /logout".
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	p := r.Context().Value(principalKey).(*principal)
	if err := h.o.Sessions.End(r.Context(), p.session); err != nil {
		return err
	}
	if _, err := h.o.Audit.Record(r.Context(), audit.Entry{Action: audit.ActionLogout, ObjectKind: "session", ObjectID: p.session.ID}); err != nil {
		return err
	}
	h.clearSession(w)
	return redirect(w, r, "/login")
}

// logoutEverywhere handles "POST /logout/everywhere": every session of the
// user ends, this one included.
func (h *Handler) logoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	p := r.Context().Value(principalKey).(*principal)
	n, err := h.o.Sessions.EndAll(r.Context(), p.user.ID, "")
	if err != nil {
		return err
	}
	if _, err := h.o.Audit.Record(r.Context(), audit.Entry{Action: audit.ActionLogoutAll, ObjectKind: "user", ObjectID: p.user.ID,
		Details: map[string]string{"sessions": itoa(n)}}); err != nil {
		return err
	}
	h.clearSession(w)
	return redirect(w, r, "/login")
}
