package store

import (
	"context"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
)

// CreateWebAuthnCredential stores a registered credential. A credential id
// registered before (by anyone) is ECONFLICT.
func (db *DB) CreateWebAuthnCredential(ctx context.Context, c *veil.WebAuthnCredential) error {
	c.Name = strings.TrimSpace(c.Name)
	switch {
	case c.UserID == "" || c.CredentialID == "" || len(c.Data) == 0:
		return invalidf("User, credential id and data required.")
	case c.Name == "" || len(c.Name) > 100:
		return invalidf("A name of at most 100 characters is required.")
	}
	if c.ID == "" {
		c.ID = veil.NewID("wac")
	}
	c.CreatedAt = db.now()
	_, err := db.exec(ctx, db.w, `INSERT INTO webauthn_credentials (id, user_id, credential_id, name, credential, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, c.ID, c.UserID, c.CredentialID, c.Name, string(c.Data), db.ts(c.CreatedAt))
	return mapErr(err, "create webauthn credential", "This security key is already registered.", "User not found.")
}

const webAuthnCols = "id, user_id, credential_id, name, credential, created_at, last_used_at"

func scanWebAuthn(s interface{ Scan(...any) error }) (*veil.WebAuthnCredential, error) {
	var (
		c    veil.WebAuthnCredential
		data string
	)
	err := s.Scan(&c.ID, &c.UserID, &c.CredentialID, &c.Name, &data, timeCol{&c.CreatedAt}, nullTimeCol{&c.LastUsedAt})
	c.Data = []byte(data)
	return &c, err
}

// ListWebAuthnCredentials returns the user's credentials, oldest first.
func (db *DB) ListWebAuthnCredentials(ctx context.Context, userID string) ([]*veil.WebAuthnCredential, error) {
	rows, err := db.query(ctx, db.sql, "SELECT "+webAuthnCols+" FROM webauthn_credentials WHERE user_id = ? ORDER BY created_at, id", userID)
	if err != nil {
		return nil, wrap("list webauthn credentials", err)
	}
	return collect(rows, scanWebAuthn, "list webauthn credentials")
}

// UpdateWebAuthnCredential stores a credential's new record (sign count)
// after a successful use at at.
func (db *DB) UpdateWebAuthnCredential(ctx context.Context, userID, id string, data []byte, at time.Time) error {
	res, err := db.exec(ctx, db.w, "UPDATE webauthn_credentials SET credential = ?, last_used_at = ? WHERE user_id = ? AND id = ?",
		string(data), db.ts(at), userID, id)
	if err != nil {
		return wrap("update webauthn credential", err)
	}
	return rowsAffected(res, "Security key not found.")
}

// DeleteWebAuthnCredential removes one of the user's credentials.
func (db *DB) DeleteWebAuthnCredential(ctx context.Context, userID, id string) error {
	res, err := db.exec(ctx, db.w, "DELETE FROM webauthn_credentials WHERE user_id = ? AND id = ?", userID, id)
	if err != nil {
		return wrap("delete webauthn credential", err)
	}
	return rowsAffected(res, "Security key not found.")
}
