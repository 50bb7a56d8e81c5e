package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/keyring"
)

// PasskeyStore is the storage WebAuthn credentials need.
type PasskeyStore interface {
	CreateWebAuthnCredential(ctx context.Context, c *veil.WebAuthnCredential) error
	ListWebAuthnCredentials(ctx context.Context, userID string) ([]*veil.WebAuthnCredential, error)
	UpdateWebAuthnCredential(ctx context.Context, userID, id string, data []byte, at time.Time) error
	DeleteWebAuthnCredential(ctx context.Context, userID, id string) error
}

// Passkeys manages WebAuthn credentials (security keys, platform
// authenticators) as a second factor, via github.com/go-webauthn/webauthn.
// The relying party is the dashboard's origin. A ceremony's challenge
// travels to the browser and back in a string sealed with Key (bound to
// the user and the ceremony kind), so no server state is needed. An
// assertion whose signature counter did not advance (a cloned key) is
// refused.
type Passkeys struct {
	Store PasskeyStore
	Key   *keyring.DataKey
	wa    *webauthn.WebAuthn
	Now   func() time.Time
}

// NewPasskeys returns Passkeys for the dashboard at origin
// (scheme://host[:port]); the relying party id is its host name.
func NewPasskeys(store PasskeyStore, key *keyring.DataKey, origin string) (*Passkeys, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("webauthn: origin %q is not a URL", origin)
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: u.Hostname(), RPDisplayName: "Veil", RPOrigins: []string{u.Scheme + "://" + u.Host}})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	return &Passkeys{Store: store, Key: key, wa: wa}, nil
}

// waUser adapts a user to webauthn.User. The user handle is the user id,
// which is random and carries no personal data.
type waUser struct {
	u     *veil.User
	creds []webauthn.Credential
	rows  []*veil.WebAuthnCredential
}

func (w *waUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w *waUser) WebAuthnName() string                       { return w.u.Email }
func (w *waUser) WebAuthnDisplayName() string                { return w.u.Email }
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

func (p *Passkeys) user(ctx context.Context, u *veil.User) (*waUser, error) {
	rows, err := p.Store.ListWebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	w := &waUser{u: u, rows: rows}
	for _, r := range rows {
		var c webauthn.Credential
		if err := json.Unmarshal(r.Data, &c); err != nil {
			return nil, fmt.Errorf("decode webauthn credential %s: %w", r.ID, err)
		}
		w.creds = append(w.creds, c)
	}
	return w, nil
}

// Has reports whether userID has any WebAuthn credential.
func (p *Passkeys) Has(ctx context.Context, userID string) (bool, error) {
	rows, err := p.Store.ListWebAuthnCredentials(ctx, userID)
	return len(rows) > 0, err
}

// List returns userID's credentials.
func (p *Passkeys) List(ctx context.Context, userID string) ([]*veil.WebAuthnCredential, error) {
	return p.Store.ListWebAuthnCredentials(ctx, userID)
}

// Delete removes one of userID's credentials.
func (p *Passkeys) Delete(ctx context.Context, userID, id string) error {
	return p.Store.DeleteWebAuthnCredential(ctx, userID, id)
}

func ceremonyAAD(kind, userID string) keyring.AAD {
	return keyring.AAD{Kind: "webauthn-" + kind, ID: userID}
}

func (p *Passkeys) seal(kind, userID string, s *webauthn.SessionData) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	sealed, err := p.Key.Seal(b, ceremonyAAD(kind, userID))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

var errCeremony = veil.Errorf(veil.EUNAUTHORIZED, "The security key check failed or expired. Try again.")

func (p *Passkeys) open(kind, userID, state string) (*webauthn.SessionData, error) {
	sealed, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil || len(state) > 8192 {
		return nil, errCeremony
	}
	b, err := p.Key.OpenLimit(sealed, ceremonyAAD(kind, userID), 8192)
	if err != nil {
		return nil, errCeremony
	}
	var s webauthn.SessionData
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, errCeremony
	}
	return &s, nil
}

// BeginRegistration returns the options for navigator.credentials.create
// (JSON) and the sealed ceremony state to give back to FinishRegistration.
func (p *Passkeys) BeginRegistration(ctx context.Context, u *veil.User) ([]byte, string, error) {
	w, err := p.user(ctx, u)
	if err != nil {
		return nil, "", err
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range w.creds {
		exclude = append(exclude, c.Descriptor())
	}
	opts, s, err := p.wa.BeginRegistration(w, webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementDiscouraged))
	if err != nil {
		return nil, "", fmt.Errorf("webauthn begin registration: %w", err)
	}
	state, err := p.seal("register", u.ID, s)
	if err != nil {
		return nil, "", err
	}
	b, err := json.Marshal(opts)
	return b, state, err
}

// FinishRegistration checks the authenticator's answer (body: the
// PublicKeyCredential as JSON) and stores the credential under name.
func (p *Passkeys) FinishRegistration(ctx context.Context, u *veil.User, state string, body []byte, name string) (*veil.WebAuthnCredential, error) {
	s, err := p.open("register", u.ID, state)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, veil.Errorf(veil.EINVALID, "The security key's answer is not valid.")
	}
	w, err := p.user(ctx, u)
	if err != nil {
		return nil, err
	}
	cred, err := p.wa.CreateCredential(w, *s, parsed)
	if err != nil {
		return nil, errCeremony
	}
	data, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Security key"
	}
	c := &veil.WebAuthnCredential{UserID: u.ID, CredentialID: base64.RawURLEncoding.EncodeToString(cred.ID), Name: name, Data: data}
	if err := p.Store.CreateWebAuthnCredential(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// BeginLogin returns the options for navigator.credentials.get (JSON) and
// the sealed ceremony state, for a user with at least one credential.
func (p *Passkeys) BeginLogin(ctx context.Context, u *veil.User) ([]byte, string, error) {
	w, err := p.user(ctx, u)
	if err != nil {
		return nil, "", err
	}
	if len(w.creds) == 0 {
		return nil, "", veil.Errorf(veil.EINVALID, "No security key is registered.")
	}
	opts, s, err := p.wa.BeginLogin(w)
	if err != nil {
		return nil, "", fmt.Errorf("webauthn begin login: %w", err)
	}
	state, err := p.seal("login", u.ID, s)
	if err != nil {
		return nil, "", err
	}
	b, err := json.Marshal(opts)
	return b, state, err
}

// FinishLogin checks an assertion (body: the PublicKeyCredential as JSON)
// and records the credential's new signature counter.
func (p *Passkeys) FinishLogin(ctx context.Context, u *veil.User, state string, body []byte) error {
	s, err := p.open("login", u.ID, state)
	if err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return errCeremony
	}
	w, err := p.user(ctx, u)
	if err != nil {
		return err
	}
	cred, err := p.wa.ValidateLogin(w, *s, parsed)
	if err != nil {
		return errCeremony
	}
	if cred.Authenticator.CloneWarning {
		return veil.Errorf(veil.EUNAUTHORIZED, "This security key's counter went backwards; it may have been cloned. Use another factor.")
	}
	id := base64.RawURLEncoding.EncodeToString(cred.ID)
	for _, r := range w.rows {
		if r.CredentialID == id {
			data, err := json.Marshal(cred)
			if err != nil {
				return err
			}
			now := time.Now()
			if p.Now != nil {
				now = p.Now()
			}
			return p.Store.UpdateWebAuthnCredential(ctx, u.ID, r.ID, data, now)
		}
	}
	return errCeremony
}
