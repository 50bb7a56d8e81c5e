package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
)

// mfaEnabled reports whether userID has any second factor: a TOTP app or
// a security key.
func (h *Handler) mfaEnabled(ctx context.Context, userID string) (bool, error) {
	on, err := h.o.MFA.Enabled(ctx, userID)
	if err != nil || on || h.o.Passkeys == nil {
		return on, err
	}
	return h.o.Passkeys.Has(ctx, userID)
}

func (h *Handler) passkeys() (*auth.Passkeys, error) {
	if h.o.Passkeys == nil {
		return nil, veil.Errorf(veil.ENOTFOUND, "Security keys are not enabled on this server.")
	}
	return h.o.Passkeys, nil
}

// ceremony is the JSON exchanged with static/webauthn.js.
type ceremony struct {
	Options    json.RawMessage `json:"options,omitempty"`
	State      string          `json:"state"`
	Name       string          `json:"name,omitempty"`
	Credential json.RawMessage `json:"credential,omitempty"`
	Redirect   string          `json:"redirect,omitempty"`
}

func readCeremony(r *http.Request) (*ceremony, error) {
	var c ceremony
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&c); err != nil || c.State == "" || len(c.Credential) == 0 {
		return nil, veil.Errorf(veil.EINVALID, "Malformed security key answer.")
	}
	return &c, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (h *Handler) jsonError(w http.ResponseWriter, r *http.Request, err error) {
	code := veil.ErrorCode(err)
	if code == veil.EINTERNAL {
		h.log.ErrorContext(r.Context(), "dashboard request failed", "method", r.Method, "route", r.Pattern, "err", err)
	}
	writeJSON(w, statusFor(code), map[string]any{"error": map[string]string{"code": code, "message": veil.ErrorMessage(err)}})
}

// passkeyRegisterBegin handles "POST /account/webauthn/register/begin".
func (h *Handler) passkeyRegisterBegin(w http.ResponseWriter, r *http.Request) error {
	p, err := h.passkeys()
	if err != nil {
		return err
	}
	opts, state, err := p.BeginRegistration(r.Context(), current(r).user)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ceremony{Options: opts, State: state})
	return nil
}

// passkeyRegisterFinish handles "POST /account/webauthn/register/finish".
func (h *Handler) passkeyRegisterFinish(w http.ResponseWriter, r *http.Request) error {
	p, err := h.passkeys()
	if err != nil {
		return err
	}
	c, err := readCeremony(r)
	if err != nil {
		return err
	}
	u := current(r).user
	cred, err := p.FinishRegistration(r.Context(), u, c.State, c.Credential, c.Name)
	if err != nil {
		return err
	}
	if _, err := h.o.Audit.Record(r.Context(), audit.Entry{Action: audit.ActionMFAEnable, ObjectKind: "user", ObjectID: u.ID,
		Details: map[string]string{"method": "webauthn", "key": cred.ID}}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ceremony{Redirect: "/account"})
	return nil
}

// passkeyDelete handles "POST /account/webauthn/{key}/delete"; it needs the
// password.
func (h *Handler) passkeyDelete(w http.ResponseWriter, r *http.Request) error {
	p, err := h.passkeys()
	if err != nil {
		return err
	}
	u := current(r).user
	params := h.o.Login.Params
	if params == (auth.Params{}) {
		params = auth.DefaultParams
	}
	if _, err := auth.VerifyPassword(r.PostFormValue("password"), u.PasswordHash, params); err != nil {
		return h.renderAccount(w, r, http.StatusBadRequest, "", "The password is wrong.")
	}
	id := r.PathValue("key")
	if err := p.Delete(r.Context(), u.ID, id); err != nil {
		return err
	}
	if _, err := h.o.Audit.Record(r.Context(), audit.Entry{Action: audit.ActionMFADisable, ObjectKind: "user", ObjectID: u.ID,
		Details: map[string]string{"method": "webauthn", "key": id}}); err != nil {
		return err
	}
	return redirect(w, r, "/account")
}

// passkeyLoginBegin handles "POST /login/webauthn/begin" (MFA step).
func (h *Handler) passkeyLoginBegin(w http.ResponseWriter, r *http.Request) error {
	p, err := h.passkeys()
	if err != nil {
		return err
	}
	opts, state, err := p.BeginLogin(r.Context(), current(r).user)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ceremony{Options: opts, State: state})
	return nil
}

// passkeyLoginFinish handles "POST /login/webauthn/finish": a valid
// assertion turns the pending session into a full one, with a new token.
func (h *Handler) passkeyLoginFinish(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, err := h.passkeys()
	if err != nil {
		return err
	}
	c, err := readCeremony(r)
	if err != nil {
		return err
	}
	pr := current(r)
	if err := p.FinishLogin(ctx, pr.user, c.State, c.Credential); err != nil {
		if veil.ErrorCode(err) == veil.EINTERNAL {
			return err
		}
		if _, aerr := h.o.Audit.Record(ctx, audit.Entry{Action: audit.ActionLoginFailure, ObjectKind: "user", ObjectID: pr.user.ID,
			Details: map[string]string{"reason": "bad_security_key"}}); aerr != nil {
			return aerr
		}
		return err
	}
	if err := h.o.Sessions.End(ctx, pr.session); err != nil {
		return err
	}
	token, s, err := h.o.Sessions.Start(ctx, pr.user.ID, clientIP(r), r.UserAgent(), false)
	if err != nil {
		return err
	}
	if _, err := h.o.Audit.Record(ctx, audit.Entry{Action: audit.ActionLoginSuccess, ObjectKind: "user", ObjectID: pr.user.ID,
		Details: map[string]string{"session": s.ID, "mfa": "webauthn"}}); err != nil {
		return err
	}
	h.setSession(w, token, s)
	writeJSON(w, http.StatusOK, ceremony{Redirect: h.returnTo(w, r, "/account")})
	return nil
}
