package web

import (
	"net/http"
	"strconv"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
)

func itoa(n int) string { return strconv.Itoa(n) }

func current(r *http.Request) *principal { return r.Context().Value(principalKey).(*principal) }

type accountData struct {
	Orgs          []*veil.OrgMembership
	Sessions      []*veil.WebSession
	CurrentID     string
	MFAEnabled    bool
	RecoveryCodes int
	Passkeys      bool // security keys are enabled on this server
	Keys          []*veil.WebAuthnCredential
}

// accountPage handles "GET /account": organisations, password, second
// factor and sessions.
func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderAccount(w, r, http.StatusOK, "", "")
}

func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, status int, flash, errMsg string) error {
	ctx := r.Context()
	p := current(r)
	orgs, err := h.o.Store.ListUserOrgs(ctx, p.user.ID)
	if err != nil {
		return err
	}
	sessions, err := h.o.Sessions.List(ctx, p.user.ID)
	if err != nil {
		return err
	}
	on, err := h.o.MFA.Enabled(ctx, p.user.ID)
	if err != nil {
		return err
	}
	d := accountData{Orgs: orgs, Sessions: sessions, CurrentID: p.session.ID, MFAEnabled: on, Passkeys: h.o.Passkeys != nil}
	if h.o.Passkeys != nil {
		if d.Keys, err = h.o.Passkeys.List(ctx, p.user.ID); err != nil {
			return err
		}
	}
	if on {
		if d.RecoveryCodes, err = h.o.MFA.RecoveryCodesLeft(ctx, p.user.ID); err != nil {
			return err
		}
	}
	return h.render(w, r, status, "account", page{Title: "Account", Flash: flash, Error: errMsg, Data: d})
}

// changePassword handles "POST /account/password". It needs the current
// password, applies the password policy, and ends every other session.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := current(r)
	params := h.o.Login.Params
	if params == (auth.Params{}) {
		params = auth.DefaultParams
	}
	if _, err := auth.VerifyPassword(r.PostFormValue("current"), p.user.PasswordHash, params); err != nil {
		return h.renderAccount(w, r, http.StatusBadRequest, "", "The current password is wrong.")
	}
	pw := r.PostFormValue("new")
	if pw != r.PostFormValue("confirm") {
		return h.renderAccount(w, r, http.StatusBadRequest, "", "The new passwords do not match.")
	}
	if err := auth.CheckPassword(pw, p.user.Email); err != nil {
		return h.renderAccount(w, r, http.StatusBadRequest, "", veil.ErrorMessage(err))
	}
	hash, err := auth.HashPassword(pw, params)
	if err != nil {
		return err
	}
	if err := h.o.Store.UpdateUserPassword(ctx, p.user.ID, hash); err != nil {
		return err
	}
	n, err := h.o.Sessions.EndAll(ctx, p.user.ID, p.session.ID)
	if err != nil {
		return err
	}
	if _, err := h.o.Audit.Record(ctx, audit.Entry{Action: audit.ActionPasswordChange, ObjectKind: "user", ObjectID: p.user.ID,
		Details: map[string]string{"other_sessions_ended": itoa(n)}}); err != nil {
		return err
	}
	return h.renderAccount(w, r, http.StatusOK, "Password changed; your other sessions were logged out.", "")
}

// revokeSession handles "POST /account/sessions/{session}/revoke". Only the
// user's own sessions can be named; any other id is 404.
func (h *Handler) revokeSession(w http.ResponseWriter, r *http.Request) error {
	p := current(r)
	id := r.PathValue("session")
	if err := h.o.Sessions.Revoke(r.Context(), p.user.ID, id); err != nil {
		return err
	}
	if _, err := h.o.Audit.Record(r.Context(), audit.Entry{Action: audit.ActionSessionRevoke, ObjectKind: "session", ObjectID: id}); err != nil {
		return err
	}
	if id == p.session.ID {
		h.clearSession(w)
		return redirect(w, r, "/login")
	}
	return redirect(w, r, "/account")
}

// revokeOtherSessions handles "POST /account/sessions/revoke-others".
func (h *Handler) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	p := current(r)
	n, err := h.o.Sessions.EndAll(r.Context(), p.user.ID, p.session.ID)
	if err != nil {
		return err
	}
	if _, err := h.o.Audit.Record(r.Context(), audit.Entry{Action: audit.ActionLogoutAll, ObjectKind: "user", ObjectID: p.user.ID,
		Details: map[string]string{"sessions": itoa(n), "kept_current": "yes"}}); err != nil {
		return err
	}
	return redirect(w, r, "/account")
}

type mfaData struct {
	Enabled bool
	Secret  string
	Codes   []string
}

// mfaSetupPage handles "GET /account/mfa": starts an enrolment (new
// secret, QR code) unless MFA is on, in which case it offers to disable it.
func (h *Handler) mfaSetupPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := current(r)
	on, err := h.o.MFA.Enabled(ctx, p.user.ID)
	if err != nil {
		return err
	}
	if on {
		return h.render(w, r, http.StatusOK, "mfa_setup", page{Title: "Two-factor authentication", Data: mfaData{Enabled: true}})
	}
	_, secret, err := h.o.MFA.Begin(ctx, p.user)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "mfa_setup", page{Title: "Two-factor authentication", Data: mfaData{Secret: secret}})
}

// mfaQR handles "GET /account/mfa/qr.png": the pending enrolment's QR code,
// served from this origin so the CSP needs no data: images.
func (h *Handler) mfaQR(w http.ResponseWriter, r *http.Request) error {
	png, err := h.o.MFA.QRCode(r.Context(), current(r).user.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(png)
	return nil
}

// mfaSetupConfirm handles "POST /account/mfa": a code from the app enables
// the factor; the recovery codes are shown once.
func (h *Handler) mfaSetupConfirm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := current(r)
	codes, err := h.o.MFA.Confirm(ctx, p.user.ID, r.PostFormValue("code"))
	if err != nil {
		if veil.ErrorCode(err) == veil.EINTERNAL {
			return err
		}
		return h.render(w, r, statusFor(veil.ErrorCode(err)), "mfa_setup", page{Title: "Two-factor authentication",
			Error: veil.ErrorMessage(err) + " Scan the new code below and try again.", Data: mfaData{Secret: h.restart(r)}})
	}
	if _, err := h.o.Audit.Record(ctx, audit.Entry{Action: audit.ActionMFAEnable, ObjectKind: "user", ObjectID: p.user.ID,
		Details: map[string]string{"method": "totp"}}); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "mfa_setup", page{Title: "Two-factor authentication", Data: mfaData{Enabled: true, Codes: codes}})
}

// restart begins a fresh enrolment after a failed confirmation.
func (h *Handler) restart(r *http.Request) string {
	_, secret, err := h.o.MFA.Begin(r.Context(), current(r).user)
	if err != nil {
		return ""
	}
	return secret
}

// mfaDisable handles "POST /account/mfa/disable": it needs the password
// and a current code (or a recovery code).
func (h *Handler) mfaDisable(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := current(r)
	params := h.o.Login.Params
	if params == (auth.Params{}) {
		params = auth.DefaultParams
	}
	bad := func(msg string) error {
		return h.render(w, r, http.StatusBadRequest, "mfa_setup", page{Title: "Two-factor authentication", Error: msg, Data: mfaData{Enabled: true}})
	}
	if _, err := auth.VerifyPassword(r.PostFormValue("password"), p.user.PasswordHash, params); err != nil {
		return bad("The password is wrong.")
	}
	if _, err := h.o.MFA.Verify(ctx, p.user.ID, r.PostFormValue("code")); err != nil {
		if veil.ErrorCode(err) == veil.EINTERNAL {
			return err
		}
		return bad(veil.ErrorMessage(err))
	}
	if err := h.o.MFA.Disable(ctx, p.user.ID); err != nil {
		return err
	}
	if _, err := h.o.Audit.Record(ctx, audit.Entry{Action: audit.ActionMFADisable, ObjectKind: "user", ObjectID: p.user.ID}); err != nil {
		return err
	}
	return redirect(w, r, "/account")
}
