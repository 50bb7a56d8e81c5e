package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/keyring"
	"golang.org/x/oauth2"
)

// OpenID Connect single sign-on, per organisation: the authorization code
// flow with PKCE (S256), a random state (CSRF on the callback) and a random
// nonce (binds the ID token to this log-in). The ID token's signature,
// issuer, audience (the client id) and expiry are checked by go-oidc
// against the provider's discovery document and keys; Veil then checks the
// nonce, that the e-mail is verified, and that its domain is allowed.
//
// The flow's secrets (state, nonce, PKCE verifier) travel in a cookie
// sealed with the accounts key (SealFlow), so no server state is needed
// between the redirect and the callback.

// SSOFlowTimeout bounds the time between the redirect to the provider and
// the callback.
const SSOFlowTimeout = 10 * time.Minute

// SSOFlow is the state of one log-in in progress.
type SSOFlow struct {
	OrgID    string    `json:"org"`
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Expires  time.Time `json:"exp"`
}

// SSOIdentity is who the provider says logged in.
type SSOIdentity struct {
	Subject string
	Email   string
}

// SSO runs OpenID Connect log-ins.
type SSO struct {
	// Client makes the server-side requests to providers (discovery, keys,
	// token). nil: a client with a 15-second timeout.
	Client *http.Client
	Now    func() time.Time
}

func (s *SSO) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *SSO) ctx(ctx context.Context) context.Context {
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 15 * time.Second}
	}
	return oidc.ClientContext(ctx, c)
}

func (s *SSO) setup(ctx context.Context, cfg *veil.OrgSSO, secret, redirectURL string) (*oidc.Provider, *oauth2.Config, error) {
	p, err := oidc.NewProvider(s.ctx(ctx), cfg.Issuer)
	if err != nil {
		return nil, nil, veil.Errorf(veil.EUNAVAILABLE, "The identity provider cannot be reached or is misconfigured.")
	}
	return p, &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: secret, Endpoint: p.Endpoint(),
		RedirectURL: redirectURL, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, nil
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Begin starts a log-in with the organisation's provider: it returns the
// provider URL to redirect the browser to, and the flow to keep (sealed)
// until the callback.
func (s *SSO) Begin(ctx context.Context, cfg *veil.OrgSSO, secret, redirectURL string) (string, *SSOFlow, error) {
	if !cfg.Enabled {
		return "", nil, veil.Errorf(veil.ENOTFOUND, "Single sign-on is not set up for this organisation.")
	}
	_, oc, err := s.setup(ctx, cfg, secret, redirectURL)
	if err != nil {
		return "", nil, err
	}
	f := &SSOFlow{OrgID: cfg.OrgID, State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(), Expires: s.now().Add(SSOFlowTimeout)}
	return oc.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), f, nil
}

var errSSO = veil.Errorf(veil.EFORBIDDEN, "Single sign-on failed. Start again from the log-in page.")

// Finish completes a log-in on the callback: state must match the flow's,
// the code is exchanged with the PKCE verifier, and the ID token verified.
func (s *SSO) Finish(ctx context.Context, cfg *veil.OrgSSO, secret, redirectURL string, f *SSOFlow, state, code string) (*SSOIdentity, error) {
	if f == nil || f.OrgID != cfg.OrgID || !s.now().Before(f.Expires) || !cfg.Enabled ||
		subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1 || code == "" {
		return nil, fmt.Errorf("%w (state)", errSSO)
	}
	p, oc, err := s.setup(ctx, cfg, secret, redirectURL)
	if err != nil {
		return nil, err
	}
	tok, err := oc.Exchange(s.ctx(ctx), code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, fmt.Errorf("%w (token exchange: %v)", errSSO, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	return s.verify(ctx, p, cfg, raw, f.Nonce)
}

// VerifyIDToken checks a raw ID token from cfg's provider for nonce.
func (s *SSO) VerifyIDToken(ctx context.Context, cfg *veil.OrgSSO, raw, nonce string) (*SSOIdentity, error) {
	p, err := oidc.NewProvider(s.ctx(ctx), cfg.Issuer)
	if err != nil {
		return nil, veil.Errorf(veil.EUNAVAILABLE, "The identity provider cannot be reached or is misconfigured.")
	}
	return s.verify(ctx, p, cfg, raw, nonce)
}

func (s *SSO) verify(ctx context.Context, p *oidc.Provider, cfg *veil.OrgSSO, raw, nonce string) (*SSOIdentity, error) {
	if raw == "" {
		return nil, fmt.Errorf("%w (no id_token)", errSSO)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: s.now}).Verify(s.ctx(ctx), raw)
	if err != nil {
		return nil, fmt.Errorf("%w (id token: %v)", errSSO, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 || nonce == "" {
		return nil, fmt.Errorf("%w (nonce)", errSSO)
	}
	var c struct {
		Email    string `json:"email"`
		Verified any    `json:"email_verified"` // some providers send "true"
	}
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w (claims: %v)", errSSO, err)
	}
	if v := fmt.Sprint(c.Verified); v != "true" {
		return nil, veil.Errorf(veil.EFORBIDDEN, "Your identity provider has not verified your e-mail address.")
	}
	if !DomainAllowed(c.Email, cfg.AllowedDomains) {
		return nil, veil.Errorf(veil.EFORBIDDEN, "Your e-mail domain is not allowed to sign in to this organisation.")
	}
	return &SSOIdentity{Subject: idt.Subject, Email: c.Email}, nil
}

// DomainAllowed reports whether email's domain is one of domains (exact,
// case-insensitive; subdomains must be listed). No domains allow none.
func DomainAllowed(email string, domains []string) bool {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return false
	}
	d := strings.ToLower(email[at+1:])
	for _, a := range domains {
		if strings.EqualFold(strings.TrimSpace(a), d) {
			return true
		}
	}
	return false
}

func flowAAD() keyring.AAD { return keyring.AAD{Kind: "sso-flow"} }

// SealFlow encodes f for the browser cookie, sealed with key.
func SealFlow(key *keyring.DataKey, f *SSOFlow) (string, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	sealed, err := key.Seal(b, flowAAD())
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// OpenFlow decodes a cookie made by SealFlow; anything else is an error.
func OpenFlow(key *keyring.DataKey, s string) (*SSOFlow, error) {
	sealed, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 4096 {
		return nil, errSSO
	}
	b, err := key.OpenLimit(sealed, flowAAD(), 4096)
	if err != nil {
		return nil, errSSO
	}
	var f SSOFlow
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, errSSO
	}
	return &f, nil
}

func ssoSecretAAD(orgID string) keyring.AAD {
	return keyring.AAD{Org: orgID, Kind: "sso-client-secret", ID: orgID}
}

// SealSSOSecret seals an organisation's OIDC client secret for storage.
func SealSSOSecret(key *keyring.DataKey, orgID, secret string) ([]byte, error) {
	return key.Seal([]byte(secret), ssoSecretAAD(orgID))
}

// OpenSSOSecret opens a secret sealed by SealSSOSecret for orgID.
func OpenSSOSecret(key *keyring.DataKey, orgID string, sealed []byte) (string, error) {
	b, err := key.OpenLimit(sealed, ssoSecretAAD(orgID), 4096)
	if err != nil {
		return "", fmt.Errorf("open sso client secret of %s: %w", orgID, err)
	}
	return string(b), nil
}
