package store

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"
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
	stmts, err := db.packStatements(ctx)
	if err != nil {
		return 0, err
	}
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		for _, b := range c.Batches {
			if b.ID == "" {
				b.ID = veil.NewID("evb")
			}
			b.CreatedAt = now
			// A project deleted since its events were logged: they go
			// with it (its key is gone), as its segments do (liveSessions).
			// Failing the commit would hold up the whole log behind them.
			var exists int
			if err := db.queryRow(ctx, tx, "SELECT COUNT(*) FROM projects WHERE id = ?", b.ProjectID).Scan(&exists); err != nil {
				return wrap("insert event batch", err)
			}
			if exists == 0 {
				continue
			}
			if _, err := db.exec(ctx, tx, `INSERT INTO event_batches
				(id, project_id, blob_key, count, min_time, max_time, bytes, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				b.ID, b.ProjectID, b.BlobKey, b.Count, db.ts(b.MinTime), db.ts(b.MaxTime), b.Bytes, db.ts(now)); err != nil {
				return mapErr(err, "insert event batch", "", projectNotFound)
			}
		}
		if err := db.restoreSessionsTx(ctx, tx, c.Restore); err != nil {
			return err
		}
		// Webhooks: sessions whose first segment this commit stores get
		// session.started, written below in this same transaction
		// (emitSessionsStartedTx, store/sessionevents.go, owned by the
		// webhook work). Keep the collection and the call when reworking
		// insertSegments.
		n, started, err := db.insertSegments(ctx, tx, stmts, c.Segments, now)
		if err != nil {
			return err
		}
		added = n
		if err := db.emitSessionsStartedTx(ctx, tx, started); err != nil {
			return err
		}
		_, err = db.exec(ctx, tx, `INSERT INTO ingest_checkpoints (node_id, lsn, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (node_id) DO UPDATE SET lsn = excluded.lsn, updated_at = excluded.updated_at`,
			c.NodeID, int64(c.LSN), db.ts(now))
		return wrap("save checkpoint", err)
	})
	return added, err
}

// chunkSizes are the row counts of CommitPack's multi-row statements:
// full chunks of 100 (10 or 11 parameters a row, well under both
// databases' limits), then powers of two for what is left, so that every
// statement a commit runs is one of a few prepared once (see packStmts).
var chunkSizes = [...]int{100, 64, 32, 16, 8, 4, 2, 1}

// chunkLen is the row count of the next statement for n rows left.
func chunkLen(n int) int {
	for _, c := range chunkSizes {
		if n >= c {
			return c
		}
	}
	return 0
}

// insertSegments indexes segments in multi-row statements and adds each
// session's new segments to its counters with one UPDATE per session (a
// packer round holds hundreds of segments; a statement each cost more
// than the rest of the round). A segment already indexed, repeated in the
// commit, or whose session is gone is skipped. It returns how many
// segments were new and the sessions whose first segments they are.
func (db *DB) insertSegments(ctx context.Context, tx *sql.Tx, stmts *packStmts, segs []veil.PackedSegment, now time.Time) (int, []sessionRef, error) {
	if len(segs) == 0 {
		return 0, nil, nil
	}
	type segKey struct {
		ref sessionRef
		seq int64
	}
	// The first copy of a repeated (session, seq) wins, as it would
	// one statement at a time.
	seen := make(map[segKey]bool, len(segs))
	var todo []*veil.PackedSegment
	for i := range segs {
		ps := &segs[i]
		ps.CreatedAt = now
		k := segKey{sessionRef{ps.ProjectID, ps.SessionID}, ps.Seq}
		if !seen[k] {
			seen[k] = true
			todo = append(todo, ps)
		}
	}
	live, err := db.liveSessions(ctx, tx, todo)
	if err != nil {
		return 0, nil, err
	}
	kept := make([]*veil.PackedSegment, 0, len(todo))
	for _, ps := range todo {
		if live[sessionRef{ps.ProjectID, ps.SessionID}] {
			kept = append(kept, ps)
		}
	}
	inserted := make(map[segKey]bool, len(kept))
	for len(kept) > 0 {
		chunk := kept[:chunkLen(len(kept))]
		kept = kept[len(chunk):]
		args := make([]any, 0, 10*len(chunk))
		for _, ps := range chunk {
			args = append(args, ps.ProjectID, ps.SessionID, ps.Seq, ps.BlobKey, ps.Offset, ps.Length,
				db.ts(ps.FirstTS), db.ts(ps.LastTS), ps.Events, db.ts(now))
		}
		rows, err := tx.StmtContext(ctx, stmts.segments[len(chunk)]).QueryContext(ctx, args...)
		if err != nil {
			return 0, nil, wrap("insert segments", err)
		}
		for rows.Next() {
			var k segKey
			if err := rows.Scan(&k.ref.projectID, &k.ref.id, &k.seq); err != nil {
				rows.Close()
				return 0, nil, wrap("insert segments", err)
			}
			inserted[k] = true
		}
		if err := rows.Close(); err != nil {
			return 0, nil, wrap("insert segments", err)
		}
		if err := rows.Err(); err != nil {
			return 0, nil, wrap("insert segments", err)
		}
	}

	// Each session's new segments, summed in log order: the first
	// non-empty path, agent and user index win, as they would one
	// segment at a time.
	var order []*sessionAdd
	adds := map[sessionRef]*sessionAdd{}
	for _, ps := range todo {
		ref := sessionRef{ps.ProjectID, ps.SessionID}
		if !inserted[segKey{ref, ps.Seq}] {
			continue
		}
		a := adds[ref]
		if a == nil {
			a = &sessionAdd{ref: ref, first: ps.FirstTS, last: ps.LastTS}
			adds[ref] = a
			order = append(order, a)
		}
		m := &ps.Meta
		a.n++
		a.events += ps.Events
		a.errs += m.Errors
		a.pages += m.Pages
		if ps.FirstTS.Before(a.first) {
			a.first = ps.FirstTS
		}
		if ps.LastTS.After(a.last) {
			a.last = ps.LastTS
		}
		a.path = cmp.Or(a.path, m.URLPath)
		a.agent = cmp.Or(a.agent, m.UserAgent)
		a.user = cmp.Or(a.user, m.UserIndex)
		for _, t := range m.Tags {
			if !slices.Contains(a.tags, t) {
				a.tags = append(a.tags, t)
			}
		}
	}
	started, err := db.updateSessions(ctx, tx, stmts, order, now)
	if err != nil {
		return 0, nil, err
	}
	return len(inserted), started, nil
}

// sessionAdd is what one commit adds to a session.
type sessionAdd struct {
	ref                    sessionRef
	n, events, errs, pages int64
	first, last            time.Time
	path, agent, user      string
	tags                   []string
}

// updateSessions adds each session's new segments to its counters, a
// chunk of sessions per statement, and records the custom events seen. It
// returns the sessions whose first segments these are (their segment
// count is what this commit added). A session gone meanwhile is skipped.
func (db *DB) updateSessions(ctx context.Context, tx *sql.Tx, stmts *packStmts, adds []*sessionAdd, now time.Time) ([]sessionRef, error) {
	var started []sessionRef
	for len(adds) > 0 {
		chunk := adds[:chunkLen(len(adds))]
		adds = adds[len(chunk):]
		byRef := make(map[sessionRef]*sessionAdd, len(chunk))
		args := make([]any, 0, 1+11*len(chunk))
		args = append(args, db.ts(now))
		for _, a := range chunk {
			byRef[a.ref] = a
			args = append(args, a.ref.projectID, a.ref.id, a.events, a.n, a.errs, a.pages,
				db.ts(a.first), db.ts(a.last), a.path, a.agent, a.user)
		}
		rows, err := tx.StmtContext(ctx, stmts.sessions[len(chunk)]).QueryContext(ctx, args...)
		if err != nil {
			return nil, wrap("update sessions", err)
		}
		var found []*sessionAdd
		for rows.Next() {
			var ref sessionRef
			var segments int64
			if err := rows.Scan(&ref.projectID, &ref.id, &segments); err != nil {
				rows.Close()
				return nil, wrap("update sessions", err)
			}
			a := byRef[ref]
			if a == nil {
				continue
			}
			found = append(found, a)
			if segments == a.n {
				started = append(started, a.ref)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, wrap("update sessions", err)
		}
		if err := rows.Err(); err != nil {
			return nil, wrap("update sessions", err)
		}
		if err := db.insertTags(ctx, tx, found); err != nil {
			return nil, err
		}
	}
	return started, nil
}

// insertTags records the custom events seen in sessions (the dashboard's
// "custom event" filter; names are blind indexes), in one statement.
func (db *DB) insertTags(ctx context.Context, tx *sql.Tx, adds []*sessionAdd) error {
	var q strings.Builder
	var args []any
	for _, a := range adds {
		for _, t := range a.tags {
			if len(args) == 0 {
				q.WriteString("INSERT INTO session_tags (project_id, tag_index, session_id) VALUES ")
			} else {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?)")
			args = append(args, a.ref.projectID, t, a.ref.id)
		}
	}
	if len(args) == 0 {
		return nil
	}
	q.WriteString(" ON CONFLICT (project_id, tag_index, session_id) DO NOTHING")
	_, err := db.exec(ctx, tx, q.String(), args...)
	return wrap("insert session tags", err)
}

// liveSessions returns which of the segments' sessions exist (a session
// deleted since its segments were logged takes them with it).
func (db *DB) liveSessions(ctx context.Context, tx *sql.Tx, segs []*veil.PackedSegment) (map[sessionRef]bool, error) {
	byProject := map[string][]any{}
	var projects []string
	seen := map[sessionRef]bool{}
	for _, ps := range segs {
		ref := sessionRef{ps.ProjectID, ps.SessionID}
		if seen[ref] {
			continue
		}
		seen[ref] = true
		if byProject[ps.ProjectID] == nil {
			projects = append(projects, ps.ProjectID)
		}
		byProject[ps.ProjectID] = append(byProject[ps.ProjectID], ps.SessionID)
	}
	live := make(map[sessionRef]bool, len(seen))
	for _, p := range projects {
		ids := byProject[p]
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), 500)]
			ids = ids[len(chunk):]
			q := "SELECT id FROM sessions WHERE project_id = ? AND id IN (?" + strings.Repeat(", ?", len(chunk)-1) + ")"
			rows, err := db.query(ctx, tx, q, append([]any{p}, chunk...)...)
			if err != nil {
				return nil, wrap("find sessions", err)
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return nil, wrap("find sessions", err)
				}
				live[sessionRef{p, id}] = true
			}
			if err := rows.Close(); err != nil {
				return nil, wrap("find sessions", err)
			}
			if err := rows.Err(); err != nil {
				return nil, wrap("find sessions", err)
			}
		}
	}
	return live, nil
}

// packStmts are CommitPack's multi-row statements by row count (one of
// chunkSizes), prepared once on the writer: SQLite spent more time parsing
// a 100-row VALUES list than running it, and a commit's last, partial
// chunk (a new text every round) cost as much as all its full ones.
type packStmts struct {
	segments, sessions map[int]*sql.Stmt
}

// packSQL holds the texts of packStmts' statements by row count: they
// depend only on the dialect, and are kilobytes each.
type packSQL struct {
	once               sync.Once
	segments, sessions map[int]string
}

func (db *DB) packStatements(ctx context.Context) (*packStmts, error) {
	texts := &db.packSQL
	texts.once.Do(func() {
		texts.segments, texts.sessions = map[int]string{}, map[int]string{}
		for _, n := range chunkSizes {
			texts.segments[n], texts.sessions[n] = insertSegmentsSQL(n), db.updateSessionsSQL(n)
		}
	})
	// Prepared outside the transaction: on SQLite the writer has one
	// connection, which the transaction holds.
	st := packStmts{segments: map[int]*sql.Stmt{}, sessions: map[int]*sql.Stmt{}}
	for _, n := range chunkSizes {
		s, err := db.preparedOn(ctx, db.w, texts.segments[n])
		if err != nil {
			return nil, wrap("prepare segment insert", err)
		}
		st.segments[n] = s
		if s, err = db.preparedOn(ctx, db.w, texts.sessions[n]); err != nil {
			return nil, wrap("prepare session update", err)
		}
		st.sessions[n] = s
	}
	return &st, nil
}

// insertSegmentsSQL indexes n segments, skipping those already indexed,
// and returns the ones it inserted.
func insertSegmentsSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO segments (` + segmentCols + `) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	q.WriteString(` ON CONFLICT (project_id, session_id, seq) DO NOTHING RETURNING project_id, session_id, seq`)
	return q.String()
}

// updateSessionsSQL adds n sessions' figures (see updateSessionsHead)
// and returns each session's segment count.
func (db *DB) updateSessionsSQL(n int) string {
	// Postgres types VALUES columns on their own (untyped parameters
	// become text), so every value is cast; SQLite ignores the casts.
	tsType := "TIMESTAMPTZ"
	if db.dialect == SQLite {
		tsType = "INTEGER"
	}
	row := "(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), " +
		"CAST(? AS " + tsType + "), CAST(? AS " + tsType + "), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))"
	var q strings.Builder
	q.WriteString(updateSessionsHead)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	q.WriteString(`) AS v WHERE sessions.project_id = v.column1 AND sessions.id = v.column2
			RETURNING project_id, id, segments`)
	return q.String()
}

// updateSessionsHead adds a commit's figures (the VALUES rows that follow
// it: project, id, events, segments, errors, pages, first and last time,
// path, agent, user index) to each session; the first parameter is
// stored_at. stored_at (server time of the last stored segment: the
// session-ended job measures idleness on it) and RETURNING segments (equal
// to the segments just added = the session's first segments:
// session.started) serve the webhooks (store/sessionevents.go); keep both
// when optimising this statement.
const updateSessionsHead = `UPDATE sessions SET
		events = sessions.events + v.column3, segments = sessions.segments + v.column4,
		errors = sessions.errors + v.column5, pages = sessions.pages + v.column6,
		first_seen = CASE WHEN sessions.first_seen > v.column7 THEN v.column7 ELSE sessions.first_seen END,
		last_seen = CASE WHEN sessions.last_seen < v.column8 THEN v.column8 ELSE sessions.last_seen END,
		url_path = CASE WHEN sessions.url_path = '' THEN v.column9 ELSE sessions.url_path END,
		user_agent = CASE WHEN sessions.user_agent = '' THEN v.column10 ELSE sessions.user_agent END,
		user_index = CASE WHEN sessions.user_index = '' THEN v.column11 ELSE sessions.user_index END,
		stored_at = ?
		FROM (VALUES `

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
