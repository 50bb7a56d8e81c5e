package store

import (
	"context"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
)

// CreateAPIToken stores t. Prefix is unique; only Hash of the secret is kept.
func (db *DB) CreateAPIToken(ctx context.Context, t *veil.APIToken) error {
	t.Name = strings.TrimSpace(t.Name)
	switch {
	case t.OrgID == "":
		return invalidf("Organisation required.")
	case !t.Role.Valid():
		return invalidf("Unknown role %q.", t.Role)
	case t.Prefix == "" || len(t.Hash) == 0:
		return invalidf("Token prefix and hash required.")
	case len(t.Name) > 100:
		return invalidf("Token name is longer than 100 characters.")
	}
	if t.ID == "" {
		t.ID = veil.NewID("tok")
	}
	t.CreatedAt = db.now()
	if t.ExpiresAt != nil {
		e := t.ExpiresAt.UTC().Truncate(time.Microsecond)
		t.ExpiresAt = &e
	}
	var user any
	if t.UserID != "" {
		user = t.UserID
	}
	_, err := db.exec(ctx, db.w, `INSERT INTO api_tokens
		(id, org_id, user_id, name, role, prefix, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.OrgID, user, t.Name, string(t.Role), t.Prefix, t.Hash, db.ts(t.CreatedAt), db.tsPtr(t.ExpiresAt))
	return mapErr(err, "create api token", "A token with this prefix already exists.", "Organisation or user not found.")
}

const apiTokenCols = "id, org_id, COALESCE(user_id, ''), name, role, prefix, hash, created_at, expires_at, last_used_at, revoked_at"

func scanAPIToken(s interface{ Scan(...any) error }) (*veil.APIToken, error) {
	var (
		t    veil.APIToken
		role string
	)
	err := s.Scan(&t.ID, &t.OrgID, &t.UserID, &t.Name, &role, &t.Prefix, &t.Hash, timeCol{&t.CreatedAt},
		nullTimeCol{&t.ExpiresAt}, nullTimeCol{&t.LastUsedAt}, nullTimeCol{&t.RevokedAt})
	t.Role = veil.Role(role)
	return &t, err
}

// FindAPITokenByPrefix finds a token, usable or not, by its lookup prefix;
// the API uses it to authenticate, so it is not scoped by org.
func (db *DB) FindAPITokenByPrefix(ctx context.Context, prefix string) (*veil.APIToken, error) {
	t, err := scanAPIToken(db.queryRow(ctx, db.sql, "SELECT "+apiTokenCols+" FROM api_tokens WHERE prefix = ?", prefix))
	return one(t, err, "find api token", "Token not found.")
}

// ListAPITokens returns the org's tokens, revoked included, oldest first.
func (db *DB) ListAPITokens(ctx context.Context, orgID string) ([]*veil.APIToken, error) {
	rows, err := db.query(ctx, db.sql, "SELECT "+apiTokenCols+" FROM api_tokens WHERE org_id = ? ORDER BY created_at, id", orgID)
	if err != nil {
		return nil, wrap("list api tokens", err)
	}
	return collect(rows, scanAPIToken, "list api tokens")
}

// RevokeAPIToken revokes a token of the org at at; revoking twice keeps the
// first time.
func (db *DB) RevokeAPIToken(ctx context.Context, orgID, id string, at time.Time) error {
	res, err := db.exec(ctx, db.w, "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE org_id = ? AND id = ?",
		db.ts(at), orgID, id)
	if err != nil {
		return wrap("revoke api token", err)
	}
	return rowsAffected(res, "Token not found.")
}

// TouchAPIToken records that the token was used at at. To spare the
// database a write per request it only writes when the stored time is older
// than a minute.
func (db *DB) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	_, err := db.exec(ctx, db.w, "UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
		db.ts(at), id, db.ts(at.Add(-time.Minute)))
	return wrap("touch api token", err)
}
