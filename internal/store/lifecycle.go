package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/veil-privacy/veil"
)

// This file holds the data-lifecycle queries (internal/lifecycle uses
// them): crypto-shredding sessions, the deletion ledger, pack garbage for
// the compaction job, retention settings and the listings retention and
// erasure walk. They are methods of *DB but not of Repository: only the
// lifecycle service needs them, and it declares its own interface.

// Retention is a retention setting. A nil day count inherits (a project
// from its org's default, an org default from "keep forever"); 0 keeps
// forever.
type Retention struct {
	OrgID      string    `json:"org_id"`
	ProjectID  string    `json:"project_id,omitempty"` // "" is the org default
	ReplayDays *int      `json:"replay_days"`
	EventDays  *int      `json:"event_days"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ShredResult says what ShredSession destroyed.
type ShredResult struct {
	Segments int64    // segment index entries removed
	Bytes    int64    // sealed bytes those entries covered (now garbage)
	Packs    []string // pack objects now holding dead bytes
}

// DeletedSession is one entry of the deletion ledger.
type DeletedSession struct {
	ProjectID string    `json:"project_id"`
	SessionID string    `json:"session_id"`
	Reason    string    `json:"reason"`
	DeletedAt time.Time `json:"deleted_at"`
}

// ShredSession crypto-shreds a session in one transaction: it overwrites
// the wrapped session key with zeros (so the old bytes are not left in
// place in the row's page), deletes the session row and, by cascade, its
// segment index, records the packs that now hold dead bytes in
// pack_garbage, and adds a tombstone to the deletion ledger. Either all of
// it happens or none. A missing session is ENOTFOUND.
func (db *DB) ShredSession(ctx context.Context, projectID, sessionID, reason string) (*ShredResult, error) {
	res := &ShredResult{}
	err := db.withTx(ctx, func(tx *sql.Tx) error { return db.shredSessionTx(ctx, tx, projectID, sessionID, reason, res) })
	if err != nil {
		return nil, err
	}
	return res, nil
}

// shredSessionTx is ShredSession inside tx (also used by
// ShredPushedSession, which checks more first).
func (db *DB) shredSessionTx(ctx context.Context, tx *sql.Tx, projectID, sessionID, reason string, res *ShredResult) error {
	now := db.now()
	if db.dialect == SQLite {
		// Freed pages are zeroed instead of left with the old key.
		if _, err := tx.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
			return wrap("secure_delete", err)
		}
	}
	r, err := db.exec(ctx, tx, "UPDATE sessions SET wrapped_key = ? WHERE project_id = ? AND id = ?",
		make([]byte, 70), projectID, sessionID)
	if err != nil {
		return wrap("shred session key", err)
	}
	if err := rowsAffected(r, "Session not found."); err != nil {
		return err
	}
	rows, err := db.query(ctx, tx, `SELECT blob_key, COUNT(*), COALESCE(SUM(len), 0) FROM segments
		WHERE project_id = ? AND session_id = ? GROUP BY blob_key ORDER BY blob_key`, projectID, sessionID)
	if err != nil {
		return wrap("list session packs", err)
	}
	for rows.Next() {
		var key string
		var n, b int64
		if err := rows.Scan(&key, &n, &b); err != nil {
			rows.Close()
			return wrap("list session packs", err)
		}
		res.Packs = append(res.Packs, key)
		res.Segments += n
		res.Bytes += b
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrap("list session packs", err)
	}
	for _, key := range res.Packs {
		if _, err := db.exec(ctx, tx, `INSERT INTO pack_garbage (blob_key, project_id, created_at) VALUES (?, ?, ?)
			ON CONFLICT (blob_key) DO NOTHING`, key, projectID, db.ts(now)); err != nil {
			return wrap("record pack garbage", err)
		}
	}
	if _, err := db.exec(ctx, tx, "DELETE FROM sessions WHERE project_id = ? AND id = ?", projectID, sessionID); err != nil {
		return wrap("delete session", err)
	}
	_, err = db.exec(ctx, tx, `INSERT INTO deleted_sessions (project_id, session_id, reason, deleted_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (project_id, session_id) DO UPDATE SET reason = excluded.reason, deleted_at = excluded.deleted_at`,
		projectID, sessionID, reason, db.ts(now))
	if err != nil {
		return wrap("record deletion", err)
	}
	// Subscribers hear of the deletion if and only if it commits.
	_, err = db.EmitWebhookEventTx(ctx, tx, veil.WebhookEvent{ProjectID: projectID, Type: "recording.deleted",
		Data: map[string]any{"project_id": projectID, "session_id": sessionID, "reason": reason}})
	return err
}

// ListDeletedSessions returns ledger entries deleted at or after since,
// oldest first.
func (db *DB) ListDeletedSessions(ctx context.Context, since time.Time) ([]*DeletedSession, error) {
	rows, err := db.query(ctx, db.sql, `SELECT project_id, session_id, reason, deleted_at FROM deleted_sessions
		WHERE deleted_at >= ? ORDER BY deleted_at, project_id, session_id`, db.ts(since))
	if err != nil {
		return nil, wrap("list deleted sessions", err)
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (*DeletedSession, error) {
		var d DeletedSession
		err := r.Scan(&d.ProjectID, &d.SessionID, &d.Reason, timeCol{&d.DeletedAt})
		return &d, err
	}, "list deleted sessions")
}

// ListPackGarbage returns up to limit pack objects holding dead bytes.
func (db *DB) ListPackGarbage(ctx context.Context, limit int) ([]string, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	rows, err := db.query(ctx, db.sql, "SELECT blob_key FROM pack_garbage ORDER BY created_at, blob_key LIMIT ?", limit)
	if err != nil {
		return nil, wrap("list pack garbage", err)
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (string, error) {
		var k string
		err := r.Scan(&k)
		return k, err
	}, "list pack garbage")
}

// ListPackSegments returns the live segments stored in one pack object,
// ordered by offset.
func (db *DB) ListPackSegments(ctx context.Context, blobKey string) ([]*veil.Segment, error) {
	rows, err := db.query(ctx, db.sql, "SELECT "+segmentCols+" FROM segments WHERE blob_key = ? ORDER BY off", blobKey)
	if err != nil {
		return nil, wrap("list pack segments", err)
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (*veil.Segment, error) {
		var s veil.Segment
		err := r.Scan(&s.ProjectID, &s.SessionID, &s.Seq, &s.BlobKey, &s.Offset, &s.Length,
			timeCol{&s.FirstTS}, timeCol{&s.LastTS}, &s.Events, timeCol{&s.CreatedAt})
		return &s, err
	}, "list pack segments")
}

// MoveSegments points segments from pack oldKey to pack newKey at their
// new places (moves[i] holds Seq, SessionID, ProjectID and the new Offset
// and Length: recompression changes lengths)
// in one transaction. A segment deleted meanwhile is not resurrected: newKey
// is then recorded as garbage itself. oldKey stays in pack_garbage until
// ClearPackGarbage, after its object is deleted, so a crash in between
// leaves the job to finish.
func (db *DB) MoveSegments(ctx context.Context, oldKey, newKey, projectID string, moves []*veil.Segment) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		gone := false
		for _, m := range moves {
			r, err := db.exec(ctx, tx, `UPDATE segments SET blob_key = ?, off = ?, len = ?
				WHERE project_id = ? AND session_id = ? AND seq = ? AND blob_key = ?`,
				newKey, m.Offset, m.Length, m.ProjectID, m.SessionID, m.Seq, oldKey)
			if err != nil {
				return wrap("move segment", err)
			}
			if n, _ := r.RowsAffected(); n == 0 {
				gone = true
			}
		}
		var live int
		if err := db.queryRow(ctx, tx, "SELECT COUNT(*) FROM segments WHERE blob_key = ?", oldKey).Scan(&live); err != nil {
			return wrap("count pack segments", err)
		}
		if live > 0 { // ingest cannot add to an old pack; refuse rather than lose data
			return errors.New("pack still has segments after the move")
		}
		if gone {
			_, err := db.exec(ctx, tx, `INSERT INTO pack_garbage (blob_key, project_id, created_at) VALUES (?, ?, ?)
				ON CONFLICT (blob_key) DO NOTHING`, newKey, projectID, db.ts(db.now()))
			return wrap("record pack garbage", err)
		}
		return nil
	})
}

// ClearPackGarbage forgets a pack object once it is deleted or rewritten.
func (db *DB) ClearPackGarbage(ctx context.Context, blobKey string) error {
	_, err := db.exec(ctx, db.w, "DELETE FROM pack_garbage WHERE blob_key = ?", blobKey)
	return wrap("clear pack garbage", err)
}

// ListSessionsSeenBefore returns up to limit sessions of the project last
// seen before cutoff, oldest first.
func (db *DB) ListSessionsSeenBefore(ctx context.Context, projectID string, cutoff time.Time, limit int) ([]*veil.Session, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	rows, err := db.query(ctx, db.sql, "SELECT "+sessionCols+
		" FROM sessions WHERE project_id = ? AND last_seen < ? ORDER BY last_seen, id LIMIT ?", projectID, db.ts(cutoff), limit)
	if err != nil {
		return nil, wrap("list expired sessions", err)
	}
	return collect(rows, scanSession, "list expired sessions")
}

// ListSessionsByUser returns the project's sessions whose blind user index
// is userIndex. An empty index matches nothing.
func (db *DB) ListSessionsByUser(ctx context.Context, projectID, userIndex string) ([]*veil.Session, error) {
	if userIndex == "" {
		return nil, nil
	}
	rows, err := db.query(ctx, db.sql, "SELECT "+sessionCols+
		" FROM sessions WHERE project_id = ? AND user_index = ? ORDER BY first_seen, id", projectID, userIndex)
	if err != nil {
		return nil, wrap("list user sessions", err)
	}
	return collect(rows, scanSession, "list user sessions")
}

// RetentionStats sums what ends before cutoff in a project: sessions last
// seen before it and their segment bytes, or event batches whose newest
// event is before it.
type RetentionStats struct {
	Sessions     int64 `json:"sessions"`
	ReplayBytes  int64 `json:"replay_bytes"`
	EventBatches int64 `json:"event_batches"`
	Events       int64 `json:"events"`
	EventBytes   int64 `json:"event_bytes"`
}

// CountExpired fills RetentionStats for replays before replayCutoff and
// events before eventCutoff; a zero cutoff counts nothing of that kind.
func (db *DB) CountExpired(ctx context.Context, projectID string, replayCutoff, eventCutoff time.Time) (*RetentionStats, error) {
	st := &RetentionStats{}
	if !replayCutoff.IsZero() {
		err := db.queryRow(ctx, db.sql, `SELECT COUNT(*), COALESCE(SUM((SELECT COALESCE(SUM(len), 0) FROM segments g
			WHERE g.project_id = s.project_id AND g.session_id = s.id)), 0)
			FROM sessions s WHERE s.project_id = ? AND s.last_seen < ?`, projectID, db.ts(replayCutoff)).Scan(&st.Sessions, &st.ReplayBytes)
		if err != nil {
			return nil, wrap("count expired sessions", err)
		}
	}
	if !eventCutoff.IsZero() {
		err := db.queryRow(ctx, db.sql, `SELECT COUNT(*), COALESCE(SUM(count), 0), COALESCE(SUM(bytes), 0)
			FROM event_batches WHERE project_id = ? AND max_time < ?`, projectID, db.ts(eventCutoff)).Scan(&st.EventBatches, &st.Events, &st.EventBytes)
		if err != nil {
			return nil, wrap("count expired event batches", err)
		}
	}
	return st, nil
}

// ListEventBatchesBefore returns up to limit batches of the project whose
// newest event is before cutoff, oldest first.
func (db *DB) ListEventBatchesBefore(ctx context.Context, projectID string, cutoff time.Time, limit int) ([]*veil.EventBatch, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	rows, err := db.query(ctx, db.sql, "SELECT "+batchCols+
		" FROM event_batches WHERE project_id = ? AND max_time < ? ORDER BY max_time, id LIMIT ?", projectID, db.ts(cutoff), limit)
	if err != nil {
		return nil, wrap("list expired event batches", err)
	}
	return collect(rows, scanBatch, "list expired event batches")
}

// DeleteEventBatch removes a batch's metadata; the caller deletes its
// object afterwards.
func (db *DB) DeleteEventBatch(ctx context.Context, projectID, id string) error {
	res, err := db.exec(ctx, db.w, "DELETE FROM event_batches WHERE project_id = ? AND id = ?", projectID, id)
	if err != nil {
		return wrap("delete event batch", err)
	}
	return rowsAffected(res, "Event batch not found.")
}

// ReplaceEventBatch points batch id at a rewritten object: newKey with
// count messages in bytes bytes. It is ENOTFOUND if the batch is gone or no
// longer points at oldKey (another rewrite won).
func (db *DB) ReplaceEventBatch(ctx context.Context, projectID, id, oldKey, newKey string, count int, bytes int64) error {
	res, err := db.exec(ctx, db.w, `UPDATE event_batches SET blob_key = ?, count = ?, bytes = ?
		WHERE project_id = ? AND id = ? AND blob_key = ?`, newKey, count, bytes, projectID, id, oldKey)
	if err != nil {
		return wrap("replace event batch", err)
	}
	return rowsAffected(res, "Event batch not found.")
}

// SetRetention stores r (UpdatedAt from DB.Now), replacing the setting of
// the same org and project. The org must exist.
func (db *DB) SetRetention(ctx context.Context, r *Retention) error {
	if r.OrgID == "" {
		return invalidf("Org required.")
	}
	for _, d := range []*int{r.ReplayDays, r.EventDays} {
		if d != nil && (*d < 0 || *d > 36500) {
			return invalidf("Retention days must be between 0 (keep forever) and 36500.")
		}
	}
	r.UpdatedAt = db.now()
	_, err := db.exec(ctx, db.w, `INSERT INTO retention_policies (org_id, project_id, replay_days, event_days, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (org_id, project_id) DO UPDATE SET
		replay_days = excluded.replay_days, event_days = excluded.event_days, updated_at = excluded.updated_at`,
		r.OrgID, r.ProjectID, intPtr(r.ReplayDays), intPtr(r.EventDays), db.ts(r.UpdatedAt))
	return mapErr(err, "set retention", "", "Org not found.")
}

// FindRetention returns the stored setting of org and project ("" for the
// org default); ENOTFOUND when there is none.
func (db *DB) FindRetention(ctx context.Context, orgID, projectID string) (*Retention, error) {
	var r Retention
	var rd, ed sql.NullInt64
	err := db.queryRow(ctx, db.sql, `SELECT org_id, project_id, replay_days, event_days, updated_at
		FROM retention_policies WHERE org_id = ? AND project_id = ?`, orgID, projectID).
		Scan(&r.OrgID, &r.ProjectID, &rd, &ed, timeCol{&r.UpdatedAt})
	if rd.Valid {
		v := int(rd.Int64)
		r.ReplayDays = &v
	}
	if ed.Valid {
		v := int(ed.Int64)
		r.EventDays = &v
	}
	return one(&r, err, "find retention", "No retention setting.")
}

func intPtr(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

// VacuumInto writes a consistent copy of a SQLite database to path (which
// must not exist). It runs on the write connection (read connections are
// query_only), so this process's writes wait for it; readers do not. On
// Postgres it is EINVALID: use pg_dump.
func (db *DB) VacuumInto(ctx context.Context, path string) error {
	if db.dialect != SQLite {
		return invalidf("VACUUM INTO is SQLite only; back up Postgres with pg_dump.")
	}
	_, err := db.w.ExecContext(ctx, "VACUUM INTO ?", path)
	return wrap("vacuum into", err)
}
