package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/veil-privacy/veil"
)

// CreateKey implements Repository.
func (db *DB) CreateKey(ctx context.Context, k *veil.WriteKey) error {
	switch {
	case k.ProjectID == "":
		return invalidf("Project required.")
	case !k.Kind.Valid():
		return invalidf("Unknown key kind %q.", k.Kind)
	case k.Prefix == "":
		return invalidf("Key prefix required.")
	case len(k.Hash) == 0:
		return invalidf("Key hash required.")
	}
	origins := k.Origins
	if origins == nil {
		origins = []string{}
	}
	js, err := json.Marshal(origins)
	if err != nil {
		return fmt.Errorf("create key: encode origins: %w", err)
	}
	if k.ID == "" {
		k.ID = veil.NewID("key")
	}
	k.CreatedAt = db.now()
	if k.RevokedAt != nil {
		t := k.RevokedAt.UTC().Truncate(time.Microsecond)
		k.RevokedAt = &t
	}
	_, err = db.exec(ctx, db.w, `INSERT INTO write_keys
		(id, project_id, kind, prefix, hash, origins, created_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.ProjectID, string(k.Kind), k.Prefix, k.Hash, string(js), db.ts(k.CreatedAt), db.tsPtr(k.RevokedAt))
	if err != nil {
		return mapErr(err, "create key", "A key with this prefix or id already exists.", "Project not found.")
	}
	return nil
}

const keyCols = "id, project_id, kind, prefix, hash, origins, created_at, revoked_at"

func scanKey(s interface{ Scan(...any) error }) (*veil.WriteKey, error) {
	var (
		k       veil.WriteKey
		kind    string
		origins string
	)
	if err := s.Scan(&k.ID, &k.ProjectID, &kind, &k.Prefix, &k.Hash, &origins,
		timeCol{&k.CreatedAt}, nullTimeCol{&k.RevokedAt}); err != nil {
		return nil, err
	}
	k.Kind = veil.KeyKind(kind)
	if err := json.Unmarshal([]byte(origins), &k.Origins); err != nil {
		return nil, fmt.Errorf("decode origins of key %s: %w", k.ID, err)
	}
	if len(k.Origins) == 0 {
		k.Origins = nil
	}
	return &k, nil
}

// FindKeyByPrefix implements Repository.
func (db *DB) FindKeyByPrefix(ctx context.Context, prefix string) (*veil.WriteKey, error) {
	stmt, err := db.prepared(ctx, "SELECT "+keyCols+" FROM write_keys WHERE prefix = ?")
	if err != nil {
		return nil, wrap("find key", err)
	}
	k, err := scanKey(stmt.QueryRowContext(ctx, prefix))
	return one(k, err, "find key", "Key not found.")
}

// ListKeys implements Repository.
func (db *DB) ListKeys(ctx context.Context, projectID string) ([]*veil.WriteKey, error) {
	rows, err := db.query(ctx, db.sql,
		"SELECT "+keyCols+" FROM write_keys WHERE project_id = ? ORDER BY created_at, id", projectID)
	if err != nil {
		return nil, wrap("list keys", err)
	}
	return collect(rows, scanKey, "list keys")
}

// RevokeKey implements Repository.
func (db *DB) RevokeKey(ctx context.Context, projectID, keyID string, at time.Time) error {
	defer db.keysChanged()
	res, err := db.exec(ctx, db.w,
		"UPDATE write_keys SET revoked_at = CASE WHEN revoked_at IS NULL OR revoked_at > ? THEN ? ELSE revoked_at END WHERE project_id = ? AND id = ?",
		db.ts(at), db.ts(at), projectID, keyID)
	if err != nil {
		return wrap("revoke key", err)
	}
	return rowsAffected(res, "Key not found.")
}
