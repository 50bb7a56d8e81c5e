package auth

import (
	"context"
	"time"

	"github.com/veil-privacy/veil"
)

// TokenStore is the storage API tokens need.
type TokenStore interface {
	CreateAPIToken(ctx context.Context, t *veil.APIToken) error
	FindAPITokenByPrefix(ctx context.Context, prefix string) (*veil.APIToken, error)
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
	RevokeAPIToken(ctx context.Context, orgID, id string, at time.Time) error
	ListAPITokens(ctx context.Context, orgID string) ([]*veil.APIToken, error)
}

// Tokens issues and checks API tokens.
type Tokens struct {
	Store TokenStore
	Now   func() time.Time // nil: time.Now
}

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Create issues a token for orgID with role, made by userID ("" for the
// CLI), expiring at expires (nil: never). The secret is returned once and
// never stored.
func (t *Tokens) Create(ctx context.Context, orgID, userID, name string, role veil.Role, expires *time.Time) (string, *veil.APIToken, error) {
	if !role.Valid() {
		return "", nil, veil.Errorf(veil.EINVALID, "Role must be owner, admin, member or viewer.")
	}
	if expires != nil && !expires.After(t.now()) {
		return "", nil, veil.Errorf(veil.EINVALID, "The expiry must be in the future.")
	}
	secret, prefix, hash := NewAPIToken()
	tok := &veil.APIToken{OrgID: orgID, UserID: userID, Name: name, Role: role, Prefix: prefix, Hash: hash, ExpiresAt: expires}
	if err := t.Store.CreateAPIToken(ctx, tok); err != nil {
		return "", nil, err
	}
	return secret, tok, nil
}

var errBadToken = veil.Errorf(veil.EUNAUTHORIZED, "API token is not valid, expired or revoked.")

// Authenticate returns the usable token whose secret is raw, and records
// its use. Anything else is EUNAUTHORIZED with one message.
func (t *Tokens) Authenticate(ctx context.Context, raw string) (*veil.APIToken, error) {
	prefix, err := ParseAPIToken(raw)
	if err != nil {
		return nil, err
	}
	tok, err := t.Store.FindAPITokenByPrefix(ctx, prefix)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		return nil, errBadToken
	} else if err != nil {
		return nil, err
	}
	now := t.now()
	if !VerifySecret(raw, tok.Hash) || !tok.Usable(now) {
		return nil, errBadToken
	}
	if err := t.Store.TouchAPIToken(ctx, tok.ID, now); err != nil {
		return nil, err
	}
	return tok, nil
}
