package store

import (
	"context"
	"time"
)

// AcquireLease implements Repository. One upsert decides atomically on
// both dialects: the row is taken over only when it is ours or expired.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	switch {
	case name == "" || holder == "":
		return false, invalidf("Lease name and holder required.")
	case ttl <= 0:
		return false, invalidf("Lease TTL must be positive.")
	}
	now := db.now()
	res, err := db.exec(ctx, db.w, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
		name, holder, db.ts(now.Add(ttl)), db.ts(now))
	if err != nil {
		return false, wrap("acquire lease "+name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrap("acquire lease "+name, err)
	}
	return n == 1, nil
}

// ReleaseLease implements Repository.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := db.exec(ctx, db.w, "DELETE FROM leases WHERE name = ? AND holder = ?", name, holder)
	return wrap("release lease "+name, err)
}
