package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/veil-privacy/veil"
)

// CommitPack records a packer's work in one transaction: the event batches,
// the segment index entries (a segment already indexed, or whose session is
// gone, is skipped, so replaying the log is harmless) with their session
// counters, and the node's checkpoint. It returns how many segments were new.
func (db *DB) CommitPack(ctx context.Context, c *veil.PackCommit) (int, error) {
	if c.NodeID == "" {
		return 0, invalidf("Node id required.")
	}
	now := db.now()
	added := 0
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		for _, b := range c.Batches {
			if b.ID == "" {
				b.ID = veil.NewID("evb")
			}
			b.CreatedAt = now
			if _, err := db.exec(ctx, tx, `INSERT INTO event_batches
				(id, project_id, blob_key, count, min_time, max_time, bytes, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				b.ID, b.ProjectID, b.BlobKey, b.Count, db.ts(b.MinTime), db.ts(b.MaxTime), b.Bytes, db.ts(now)); err != nil {
				return mapErr(err, "insert event batch", "", projectNotFound)
			}
		}
		var st *segmentStmts
		if len(c.Segments) > 0 {
			var err error
			if st, err = db.prepareSegmentStmts(ctx, tx); err != nil {
				return err
			}
			defer st.Close()
		}
		// Webhooks: sessions whose first segment this commit stores get
		// session.started, written below in this same transaction
		// (emitSessionsStartedTx, store/sessionevents.go, owned by the
		// webhook work). Keep the collection and the call when reworking
		// this loop.
		var started []sessionRef
		for i := range c.Segments {
			ok, first, err := db.insertSegment(ctx, st, &c.Segments[i], now)
			if err != nil {
				return err
			}
			if ok {
				added++
			}
			if first {
				started = append(started, sessionRef{c.Segments[i].ProjectID, c.Segments[i].SessionID})
			}
		}
		if err := db.emitSessionsStartedTx(ctx, tx, started); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO ingest_checkpoints (node_id, lsn, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (node_id) DO UPDATE SET lsn = excluded.lsn, updated_at = excluded.updated_at`,
			c.NodeID, int64(c.LSN), db.ts(now))
		return wrap("save checkpoint", err)
	})
	return added, err
}

const (
	insertSegmentSQL = `INSERT INTO segments
		(project_id, session_id, seq, blob_key, off, len, first_ts, last_ts, events, created_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (SELECT 1 FROM sessions WHERE project_id = ? AND id = ?)
		ON CONFLICT (project_id, session_id, seq) DO NOTHING`
	updateSessionSQL = `UPDATE sessions SET
		events = events + ?, segments = segments + 1, errors = errors + ?, pages = pages + ?,
		first_seen = CASE WHEN first_seen > ? THEN ? ELSE first_seen END,
		last_seen = CASE WHEN last_seen < ? THEN ? ELSE last_seen END,
		url_path = CASE WHEN url_path = '' THEN ? ELSE url_path END,
		user_agent = CASE WHEN user_agent = '' THEN ? ELSE user_agent END,
		user_index = CASE WHEN user_index = '' THEN ? ELSE user_index END,
		stored_at = ?
		WHERE project_id = ? AND id = ?
		RETURNING segments`
	// insertTagSQL records a custom event seen in a session (the dashboard's
	// "custom event" filter); the name is a blind index.
	insertTagSQL = `INSERT INTO session_tags (project_id, tag_index, session_id) VALUES (?, ?, ?)
		ON CONFLICT (project_id, tag_index, session_id) DO NOTHING`
)

// updateSessionSQL's stored_at (server time of the last stored segment:
// the session-ended job measures idleness on it) and RETURNING segments
// (1 = the session's first segment: session.started) serve the webhooks
// (store/sessionevents.go); keep both when optimising this statement.

// segmentStmts are the two statements of insertSegment, prepared once per
// CommitPack: a packer round can index hundreds of segments, and preparing
// each statement again costs more than running it.
type segmentStmts struct{ insert, update, tag *sql.Stmt }

func (db *DB) prepareSegmentStmts(ctx context.Context, tx *sql.Tx) (*segmentStmts, error) {
	ins, err := tx.PrepareContext(ctx, db.q(insertSegmentSQL))
	if err != nil {
		return nil, wrap("prepare segment insert", err)
	}
	upd, err := tx.PrepareContext(ctx, db.q(updateSessionSQL))
	if err != nil {
		ins.Close()
		return nil, wrap("prepare session update", err)
	}
	tag, err := tx.PrepareContext(ctx, db.q(insertTagSQL))
	if err != nil {
		ins.Close()
		upd.Close()
		return nil, wrap("prepare session tag insert", err)
	}
	return &segmentStmts{ins, upd, tag}, nil
}

func (st *segmentStmts) Close() { st.insert.Close(); st.update.Close(); st.tag.Close() }

// insertSegment indexes one segment and updates its session's counters.
// It reports whether the segment was new and whether it was the
// session's first stored segment (for session.started).
func (db *DB) insertSegment(ctx context.Context, st *segmentStmts, ps *veil.PackedSegment, now time.Time) (added, first bool, err error) {
	s := &ps.Segment
	s.CreatedAt = now
	res, err := st.insert.ExecContext(ctx,
		s.ProjectID, s.SessionID, s.Seq, s.BlobKey, s.Offset, s.Length, db.ts(s.FirstTS), db.ts(s.LastTS), s.Events, db.ts(now),
		s.ProjectID, s.SessionID)
	if err != nil {
		return false, false, wrap("insert segment", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, false, nil
	}
	m := ps.Meta
	var segments int64
	err = st.update.QueryRowContext(ctx,
		s.Events, m.Errors, m.Pages, db.ts(s.FirstTS), db.ts(s.FirstTS), db.ts(s.LastTS), db.ts(s.LastTS),
		m.URLPath, m.UserAgent, m.UserIndex, db.ts(now), s.ProjectID, s.SessionID).Scan(&segments)
	if err == sql.ErrNoRows { // the session went away under us: nothing to announce
		return true, false, nil
	} else if err != nil {
		return true, false, wrap("update session", err)
	}
	for _, tag := range m.Tags {
		if _, err := st.tag.ExecContext(ctx, s.ProjectID, tag, s.SessionID); err != nil {
			return true, false, wrap("insert session tag", err)
		}
	}
	return true, segments == 1, nil
}

// FindCheckpoint returns the node's stored write-ahead-log position, 0 if
// it has none.
func (db *DB) FindCheckpoint(ctx context.Context, nodeID string) (uint64, error) {
	var lsn int64
	err := db.queryRow(ctx, db.sql, "SELECT lsn FROM ingest_checkpoints WHERE node_id = ?", nodeID).Scan(&lsn)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return uint64(lsn), wrap("find checkpoint", err)
}

const segmentCols = "project_id, session_id, seq, blob_key, off, len, first_ts, last_ts, events, created_at"

// ListSegments returns a session's segments in sequence order.
func (db *DB) ListSegments(ctx context.Context, projectID, sessionID string) ([]*veil.Segment, error) {
	rows, err := db.query(ctx, db.sql, "SELECT "+segmentCols+" FROM segments WHERE project_id = ? AND session_id = ? ORDER BY seq",
		projectID, sessionID)
	if err != nil {
		return nil, wrap("list segments", err)
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (*veil.Segment, error) {
		var s veil.Segment
		err := r.Scan(&s.ProjectID, &s.SessionID, &s.Seq, &s.BlobKey, &s.Offset, &s.Length,
			timeCol{&s.FirstTS}, timeCol{&s.LastTS}, &s.Events, timeCol{&s.CreatedAt})
		return &s, err
	}, "list segments")
}
