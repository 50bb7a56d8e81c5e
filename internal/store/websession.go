package store

import (
	"context"
	"time"

	"github.com/veil-privacy/veil"
)

// CreateWebSession stores a browser session. s.TokenHash must be set; the
// token itself is never stored.
func (db *DB) CreateWebSession(ctx context.Context, s *veil.WebSession) error {
	switch {
	case s.UserID == "":
		return invalidf("User required.")
	case len(s.TokenHash) == 0:
		return invalidf("Session token hash required.")
	case s.ExpiresAt.IsZero():
		return invalidf("Session expiry required.")
	}
	if s.ID == "" {
		s.ID = veil.NewID("ses")
	}
	s.CreatedAt = db.now()
	s.LastSeenAt = s.CreatedAt
	s.ExpiresAt = s.ExpiresAt.UTC().Truncate(time.Microsecond)
	_, err := db.exec(ctx, db.w, `INSERT INTO web_sessions
		(id, user_id, token_hash, created_at, last_seen_at, expires_at, mfa_pending, org_id, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, s.TokenHash, db.ts(s.CreatedAt), db.ts(s.LastSeenAt), db.ts(s.ExpiresAt),
		s.MFAPending, s.OrgID, s.IP, s.UserAgent)
	return mapErr(err, "create web session", "Session already exists.", "User not found.")
}

const webSessionCols = "id, user_id, token_hash, created_at, last_seen_at, expires_at, mfa_pending, org_id, ip, user_agent"

func scanWebSession(s interface{ Scan(...any) error }) (*veil.WebSession, error) {
	var w veil.WebSession
	err := s.Scan(&w.ID, &w.UserID, &w.TokenHash, timeCol{&w.CreatedAt}, timeCol{&w.LastSeenAt},
		timeCol{&w.ExpiresAt}, &w.MFAPending, &w.OrgID, &w.IP, &w.UserAgent)
	return &w, err
}

// FindWebSessionByHash finds a session by the hash of its token, whether
// expired or not (the caller enforces timeouts).
func (db *DB) FindWebSessionByHash(ctx context.Context, hash []byte) (*veil.WebSession, error) {
	s, err := scanWebSession(db.queryRow(ctx, db.sql, "SELECT "+webSessionCols+" FROM web_sessions WHERE token_hash = ?", hash))
	return one(s, err, "find web session", "Session not found.")
}

// TouchWebSession moves the session's last-seen time forward to at.
func (db *DB) TouchWebSession(ctx context.Context, id string, at time.Time) error {
	_, err := db.exec(ctx, db.w, "UPDATE web_sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?",
		db.ts(at), id, db.ts(at))
	return wrap("touch web session", err)
}

// ListWebSessions returns the user's sessions, most recently used first.
func (db *DB) ListWebSessions(ctx context.Context, userID string) ([]*veil.WebSession, error) {
	rows, err := db.query(ctx, db.sql, "SELECT "+webSessionCols+
		" FROM web_sessions WHERE user_id = ? ORDER BY last_seen_at DESC, id", userID)
	if err != nil {
		return nil, wrap("list web sessions", err)
	}
	return collect(rows, scanWebSession, "list web sessions")
}

// DeleteWebSession deletes one of the user's sessions.
func (db *DB) DeleteWebSession(ctx context.Context, userID, id string) error {
	res, err := db.exec(ctx, db.w, "DELETE FROM web_sessions WHERE user_id = ? AND id = ?", userID, id)
	if err != nil {
		return wrap("delete web session", err)
	}
	return rowsAffected(res, "Session not found.")
}

// DeleteUserWebSessions deletes every session of the user except exceptID
// ("" deletes all) and returns how many were deleted.
func (db *DB) DeleteUserWebSessions(ctx context.Context, userID, exceptID string) (int, error) {
	res, err := db.exec(ctx, db.w, "DELETE FROM web_sessions WHERE user_id = ? AND id <> ?", userID, exceptID)
	if err != nil {
		return 0, wrap("delete user web sessions", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("delete user web sessions", err)
}

// DeleteExpiredWebSessions deletes sessions whose absolute expiry is before
// before, or that were last seen before idleBefore.
func (db *DB) DeleteExpiredWebSessions(ctx context.Context, before, idleBefore time.Time) (int, error) {
	res, err := db.exec(ctx, db.w, "DELETE FROM web_sessions WHERE expires_at < ? OR last_seen_at < ?", db.ts(before), db.ts(idleBefore))
	if err != nil {
		return 0, wrap("delete expired web sessions", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("delete expired web sessions", err)
}
