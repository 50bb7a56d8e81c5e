package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/veil-privacy/veil"
)

// PutPendingMFA starts (or restarts) TOTP enrolment with a new secret that
// is not enabled yet. A user whose MFA is enabled gets ECONFLICT: the
// factor must be removed first.
func (db *DB) PutPendingMFA(ctx context.Context, userID, secret string) error {
	if userID == "" || secret == "" {
		return invalidf("User and secret required.")
	}
	now := db.now()
	res, err := db.exec(ctx, db.w, `INSERT INTO user_mfa (user_id, secret, enabled, last_step, created_at)
		VALUES (?, ?, ?, 0, ?)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = 0
		WHERE user_mfa.enabled = ?`, userID, secret, false, db.ts(now), false)
	if err != nil {
		return mapErr(err, "put pending mfa", "", "User not found.")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return veil.Errorf(veil.ECONFLICT, "Two-factor authentication is already enabled.")
	}
	return nil
}

// FindMFA returns the user's MFA state (ENOTFOUND when never enrolled).
func (db *DB) FindMFA(ctx context.Context, userID string) (*veil.MFA, error) {
	var m veil.MFA
	err := db.queryRow(ctx, db.sql, "SELECT user_id, secret, enabled, last_step, created_at, enabled_at FROM user_mfa WHERE user_id = ?", userID).
		Scan(&m.UserID, &m.Secret, &m.Enabled, &m.LastStep, timeCol{&m.CreatedAt}, nullTimeCol{&m.EnabledAt})
	return one(&m, err, "find mfa", "Two-factor authentication is not set up.")
}

// UseTOTPStep records that the TOTP code of time step was accepted, and
// enables a pending enrolment. A step not after the last accepted one is
// ECONFLICT: a code is never accepted twice. It also replaces the user's
// recovery codes when codes is not nil (enrolment), in the same transaction.
func (db *DB) UseTOTPStep(ctx context.Context, userID string, step int64, codes [][]byte) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		now := db.now()
		res, err := db.exec(ctx, tx, `UPDATE user_mfa SET last_step = ?, enabled = ?,
			enabled_at = COALESCE(enabled_at, ?) WHERE user_id = ? AND last_step < ?`,
			step, true, db.ts(now), userID, step)
		if err != nil {
			return wrap("use totp step", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := db.FindMFA(ctx, userID); err != nil {
				return err
			}
			return veil.Errorf(veil.ECONFLICT, "This code was already used; wait for the next one.")
		}
		if codes != nil {
			return db.setRecoveryCodes(ctx, tx, userID, codes)
		}
		return nil
	})
}

// SetRecoveryCodes replaces the user's recovery codes (their hashes).
func (db *DB) SetRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	return db.withTx(ctx, func(tx *sql.Tx) error { return db.setRecoveryCodes(ctx, tx, userID, hashes) })
}

func (db *DB) setRecoveryCodes(ctx context.Context, tx *sql.Tx, userID string, hashes [][]byte) error {
	if _, err := db.exec(ctx, tx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
		return wrap("delete recovery codes", err)
	}
	for _, h := range hashes {
		if _, err := db.exec(ctx, tx, "INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?)", userID, h); err != nil {
			return mapErr(err, "insert recovery code", "Duplicate recovery code.", "User not found.")
		}
	}
	return nil
}

// UseRecoveryCode marks an unused recovery code (by hash) used;
// ENOTFOUND when the user has no such unused code.
func (db *DB) UseRecoveryCode(ctx context.Context, userID string, hash []byte) error {
	res, err := db.exec(ctx, db.w, "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at IS NULL",
		db.ts(db.now()), userID, hash)
	if err != nil {
		return wrap("use recovery code", err)
	}
	return rowsAffected(res, "Recovery code not valid.")
}

// CountRecoveryCodes returns how many unused recovery codes the user has.
func (db *DB) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := db.queryRow(ctx, db.sql, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL", userID).Scan(&n)
	return n, wrap("count recovery codes", err)
}

// DeleteMFA removes the user's second factor and recovery codes.
func (db *DB) DeleteMFA(ctx context.Context, userID string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.exec(ctx, tx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
			return wrap("delete recovery codes", err)
		}
		res, err := db.exec(ctx, tx, "DELETE FROM user_mfa WHERE user_id = ?", userID)
		if err != nil {
			return wrap("delete mfa", err)
		}
		return rowsAffected(res, "Two-factor authentication is not set up.")
	})
}

// AddLoginFailure counts one failed log-in under key, in one transaction:
// a count whose window (started at WindowStart) is older than window starts
// again from zero. lock returns how long the new count locks the key (0 for
// no lock). It returns the updated state.
func (db *DB) AddLoginFailure(ctx context.Context, key string, window time.Duration, lock func(failures int) time.Duration) (*veil.LoginThrottle, error) {
	var t veil.LoginThrottle
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		now := db.now()
		t = veil.LoginThrottle{Key: key, WindowStart: now}
		err := db.queryRow(ctx, tx, "SELECT failures, window_start, locked_until FROM login_throttle WHERE key = ?", key).
			Scan(&t.Failures, timeCol{&t.WindowStart}, timeCol{&t.LockedUntil})
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return wrap("read login throttle", err)
		case now.Sub(t.WindowStart) > window && !now.Before(t.LockedUntil):
			t = veil.LoginThrottle{Key: key, WindowStart: now}
		}
		t.Failures++
		if d := lock(t.Failures); d > 0 {
			t.LockedUntil = now.Add(d)
		}
		_, err = db.exec(ctx, tx, `INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
			locked_until = excluded.locked_until`, key, t.Failures, db.ts(t.WindowStart), db.ts(t.LockedUntil))
		return wrap("write login throttle", err)
	})
	return &t, err
}

// FindLoginThrottle returns key's state; a key never seen is a zero state.
func (db *DB) FindLoginThrottle(ctx context.Context, key string) (*veil.LoginThrottle, error) {
	t := veil.LoginThrottle{Key: key}
	err := db.queryRow(ctx, db.sql, "SELECT failures, window_start, locked_until FROM login_throttle WHERE key = ?", key).
		Scan(&t.Failures, timeCol{&t.WindowStart}, timeCol{&t.LockedUntil})
	if err == sql.ErrNoRows {
		return &t, nil
	}
	return &t, wrap("find login throttle", err)
}

// ClearLoginThrottle forgets key's failures (after a successful log-in, or
// an administrator's unlock).
func (db *DB) ClearLoginThrottle(ctx context.Context, key string) error {
	_, err := db.exec(ctx, db.w, "DELETE FROM login_throttle WHERE key = ?", key)
	return wrap("clear login throttle", err)
}

// DeleteStaleLoginThrottles deletes counters whose window started before
// before and whose lock is over, and returns how many.
func (db *DB) DeleteStaleLoginThrottles(ctx context.Context, before time.Time) (int, error) {
	res, err := db.exec(ctx, db.w, "DELETE FROM login_throttle WHERE window_start < ? AND locked_until < ?", db.ts(before), db.ts(db.now()))
	if err != nil {
		return 0, wrap("delete stale login throttles", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("delete stale login throttles", err)
}
