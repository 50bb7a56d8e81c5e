package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
)

// Session lifecycle webhooks.
//
// session.started is written by CommitPack, in its transaction, for every
// session whose first segment that commit stores: from then on the session
// exists for every reader (listed, playable), and the segment index's
// primary key makes it happen once per session, on any number of nodes.
//
// session.ended is written by EndIdleSessions (the leased session-ended
// job) when no segment of the session has been stored for the idle
// timeout. Idleness is measured on sessions.stored_at, the server time of
// the last packer commit that stored a segment, never on browser clocks.
// ended_at marks the session closed, so the event is written once; data
// arriving later is stored but does not reopen the session.
//
// Payloads carry ids, times, counts, the entry path (scrubbed at ingest,
// no query string) and the browser family: never recorded content or user
// identifiers. The Go types receivers may use are webhook.SessionStartedData
// and webhook.SessionEndedData.

// sessionRef names a session.
type sessionRef struct{ projectID, id string }

// Event types written here (webhook.SessionStarted, webhook.SessionEnded).
const (
	eventSessionStarted = "session.started"
	eventSessionEnded   = "session.ended"
)

// sessionStartedData is the data of session.started (version 1).
type sessionStartedData struct {
	ProjectID       string    `json:"project_id"`
	SessionID       string    `json:"session_id"`
	StartedAt       time.Time `json:"started_at"`
	URLPath         string    `json:"url_path"`
	UserAgentFamily string    `json:"user_agent_family"`
}

// sessionEndedData is the data of session.ended (version 1). EndedAt is
// the session's last recorded activity; DurationMS is EndedAt - StartedAt.
type sessionEndedData struct {
	ProjectID  string    `json:"project_id"`
	SessionID  string    `json:"session_id"`
	StartedAt  time.Time `json:"started_at"`
	EndedAt    time.Time `json:"ended_at"`
	DurationMS int64     `json:"duration_ms"`
	Segments   int64     `json:"segments"`
	Events     int64     `json:"events"`
	Errors     int64     `json:"errors"`
}

// emitSessionsStartedTx writes session.started for each session in refs
// (in CommitPack's transaction). Projects nobody subscribes to cost one
// endpoint query per commit; subscribed ones one session query per
// startedChunk sessions and one prepared insert per message.
func (db *DB) emitSessionsStartedTx(ctx context.Context, tx *sql.Tx, refs []sessionRef) error {
	if len(refs) == 0 {
		return nil
	}
	o := db.newOutbox(tx)
	defer o.close()
	byProject := map[string][]string{}
	var projects []string
	for _, r := range refs {
		ok, err := o.subscribed(ctx, r.projectID, eventSessionStarted)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if byProject[r.projectID] == nil {
			projects = append(projects, r.projectID)
		}
		byProject[r.projectID] = append(byProject[r.projectID], r.id)
	}
	if len(projects) == 0 {
		return nil
	}
	if err := o.prepare(ctx); err != nil {
		return err
	}
	for _, pid := range projects {
		ids := byProject[pid]
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), startedChunk)]
			ids = ids[len(chunk):]
			args := []any{pid}
			for _, id := range chunk {
				args = append(args, id)
			}
			rows, err := db.query(ctx, tx, "SELECT id, first_seen, url_path, user_agent FROM sessions WHERE project_id = ? AND id IN (?"+
				strings.Repeat(", ?", len(chunk)-1)+") ORDER BY first_seen, id", args...)
			if err != nil {
				return wrap("session.started: read sessions", err)
			}
			list, err := collect(rows, func(s interface{ Scan(...any) error }) (sessionStartedData, error) {
				d := sessionStartedData{ProjectID: pid}
				return d, s.Scan(&d.SessionID, timeCol{&d.StartedAt}, &d.URLPath, &d.UserAgentFamily)
			}, "session.started: read sessions")
			if err != nil {
				return err
			}
			for _, d := range list {
				if _, err := o.emit(ctx, veil.WebhookEvent{ProjectID: pid, Type: eventSessionStarted, Data: d}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// startedChunk bounds the ids of one session query (SQLite allows 32766
// parameters, Postgres 65535).
const startedChunk = 500

// EndIdleSessions closes up to limit open sessions none of whose segments
// was stored after idleBefore: it sets their ended_at and writes
// session.ended for each, in one transaction. It returns how many it
// closed. A session is closed once whoever runs it (a second call, another
// node): the update is conditional on ended_at being unset.
func (db *DB) EndIdleSessions(ctx context.Context, idleBefore time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, invalidf("Positive limit required.")
	}
	n := 0
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		lock := ""
		if db.dialect == Postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		rows, err := db.query(ctx, tx, `SELECT project_id, id, first_seen, last_seen, segments, events, errors FROM sessions
			WHERE ended_at IS NULL AND stored_at <= ? ORDER BY stored_at LIMIT ?`+lock, db.ts(idleBefore), limit)
		if err != nil {
			return wrap("end idle sessions", err)
		}
		list, err := collect(rows, func(s interface{ Scan(...any) error }) (*sessionEndedData, error) {
			var d sessionEndedData
			return &d, s.Scan(&d.ProjectID, &d.SessionID, timeCol{&d.StartedAt}, timeCol{&d.EndedAt}, &d.Segments, &d.Events, &d.Errors)
		}, "end idle sessions")
		if err != nil {
			return err
		}
		o := db.newOutbox(tx)
		defer o.close()
		if len(list) > 1 {
			if err := o.prepare(ctx); err != nil {
				return err
			}
		}
		for _, d := range list {
			// Conditional again: a segment stored since the SELECT keeps
			// the session open (Postgres re-checks after the row lock).
			res, err := db.exec(ctx, tx, `UPDATE sessions SET ended_at = ?
				WHERE project_id = ? AND id = ? AND ended_at IS NULL AND stored_at <= ?`,
				db.ts(o.now), d.ProjectID, d.SessionID, db.ts(idleBefore))
			if err != nil {
				return wrap("end session", err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			n++
			d.DurationMS = max(d.EndedAt.Sub(d.StartedAt).Milliseconds(), 0)
			if _, err := o.emit(ctx, veil.WebhookEvent{ProjectID: d.ProjectID, Type: eventSessionEnded, Data: d}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// SessionEnded reports when the session-ended job closed a session (nil:
// still open).
func (db *DB) SessionEnded(ctx context.Context, projectID, id string) (*time.Time, error) {
	var at *time.Time
	err := db.queryRow(ctx, db.sql, "SELECT ended_at FROM sessions WHERE project_id = ? AND id = ?", projectID, id).Scan(nullTimeCol{&at})
	if err == sql.ErrNoRows {
		return nil, notFoundErr("Session not found.")
	}
	return at, wrap("find session end", err)
}
