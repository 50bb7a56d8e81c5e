package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/veil-privacy/veil"
)

const sessionCols = "project_id, id, wrapped_key, user_index, first_seen, last_seen, url_path, user_agent, events, segments, errors, pages"

const insertSession = "INSERT INTO sessions (" + sessionCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

// prepareSession validates s and fills its defaults.
func (db *DB) prepareSession(s *veil.Session) error {
	if s.ProjectID == "" {
		return invalidf("Project required.")
	}
	if s.ID == "" {
		s.ID = veil.NewID("ses")
	}
	if s.FirstSeen.IsZero() {
		s.FirstSeen = db.now()
	}
	if s.LastSeen.IsZero() {
		s.LastSeen = s.FirstSeen
	}
	s.FirstSeen = s.FirstSeen.UTC().Truncate(time.Microsecond)
	s.LastSeen = s.LastSeen.UTC().Truncate(time.Microsecond)
	return nil
}

func (db *DB) sessionArgs(s *veil.Session) []any {
	return []any{s.ProjectID, s.ID, nonNil(s.WrappedKey), s.UserIndex, db.ts(s.FirstSeen), db.ts(s.LastSeen),
		s.URLPath, s.UserAgent, s.Events, s.Segments, s.Errors, s.Pages}
}

const (
	sessionConflict = "A session with this id already exists in the project."
	projectNotFound = "Project not found."
)

// CreateSession implements Repository.
func (db *DB) CreateSession(ctx context.Context, s *veil.Session) error {
	if err := db.prepareSession(s); err != nil {
		return err
	}
	if _, err := db.exec(ctx, db.w, insertSession, db.sessionArgs(s)...); err != nil {
		return mapErr(err, "create session", sessionConflict, projectNotFound)
	}
	return nil
}

// CreateSessions implements Repository. One transaction and one prepared
// statement make it much faster than CreateSession in a loop, chiefly on
// SQLite where each commit is a WAL sync.
func (db *DB) CreateSessions(ctx context.Context, ss []*veil.Session) error {
	for _, s := range ss {
		if err := db.prepareSession(s); err != nil {
			return err
		}
	}
	if len(ss) == 0 {
		return nil
	}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, db.q(insertSession))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, s := range ss {
			if _, err := stmt.ExecContext(ctx, db.sessionArgs(s)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return mapErr(err, "create sessions", sessionConflict, projectNotFound)
	}
	return nil
}

func scanSession(s interface{ Scan(...any) error }) (*veil.Session, error) {
	var x veil.Session
	err := s.Scan(&x.ProjectID, &x.ID, &x.WrappedKey, &x.UserIndex, timeCol{&x.FirstSeen}, timeCol{&x.LastSeen},
		&x.URLPath, &x.UserAgent, &x.Events, &x.Segments, &x.Errors, &x.Pages)
	return &x, err
}

// FindSession implements Repository.
func (db *DB) FindSession(ctx context.Context, projectID, id string) (*veil.Session, error) {
	s, err := scanSession(db.queryRow(ctx, db.sql,
		"SELECT "+sessionCols+" FROM sessions WHERE project_id = ? AND id = ?", projectID, id))
	return one(s, err, "find session", "Session not found.")
}

// ListSessions implements Repository.
func (db *DB) ListSessions(ctx context.Context, projectID string, limit int) ([]*veil.Session, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	rows, err := db.query(ctx, db.sql, "SELECT "+sessionCols+
		" FROM sessions WHERE project_id = ? ORDER BY last_seen DESC, id LIMIT ?", projectID, limit)
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	return collect(rows, scanSession, "list sessions")
}

// UpdateSession implements Repository. It is one statement, so concurrent
// updates of the same session never lose counts.
func (db *DB) UpdateSession(ctx context.Context, projectID, id string, upd veil.SessionUpdate) (*veil.Session, error) {
	// A NULL last_seen argument makes "last_seen < NULL" NULL, which keeps
	// the current value; so does COALESCE for url_path.
	s, err := scanSession(db.queryRow(ctx, db.w, `UPDATE sessions SET
		events = events + ?, segments = segments + ?, errors = errors + ?,
		last_seen = CASE WHEN last_seen < ? THEN ? ELSE last_seen END,
		url_path = COALESCE(?, url_path)
		WHERE project_id = ? AND id = ?
		RETURNING `+sessionCols,
		upd.AddEvents, upd.AddSegments, upd.AddErrors, db.tsPtr(upd.LastSeen), db.tsPtr(upd.LastSeen),
		upd.URLPath, projectID, id))
	return one(s, err, fmt.Sprintf("update session %s", id), "Session not found.")
}

// DeleteSession implements Repository.
func (db *DB) DeleteSession(ctx context.Context, projectID, id string) error {
	res, err := db.exec(ctx, db.w, "DELETE FROM sessions WHERE project_id = ? AND id = ?", projectID, id)
	if err != nil {
		return wrap("delete session", err)
	}
	return rowsAffected(res, "Session not found.")
}

// CreateSessionDeferred is CreateSession for a caller that keeps, in a
// durable log of its own, what it needs to create the session again
// (ingest writes each segment's wrapped session key into its write-ahead
// log): the insert is not synced itself and becomes durable with the next
// synced commit — the packer's CommitPack, which comes before the log is
// trimmed and restores rows lost meanwhile (PackCommit.Restore). On SQLite
// it runs with synchronous=NORMAL, on Postgres with synchronous_commit
// off: it keeps an fsync, and the single SQLite writer, off the request
// path.
func (db *DB) CreateSessionDeferred(ctx context.Context, s *veil.Session) error {
	if err := db.prepareSession(s); err != nil {
		return err
	}
	var err error
	if db.dialect == SQLite {
		err = db.withSyncNormal(ctx, func(c *sql.Conn) error {
			_, err := c.ExecContext(ctx, insertSession, db.sessionArgs(s)...)
			return err
		})
	} else {
		err = db.withTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, db.q(insertSession), db.sessionArgs(s)...)
			return err
		})
	}
	if err != nil {
		return mapErr(err, "create session", sessionConflict, projectNotFound)
	}
	return nil
}

// withSyncNormal runs fn on the SQLite write connection with
// synchronous=NORMAL and sets FULL back after it. The setting belongs to
// the connection, so one whose reset failed is discarded rather than left
// to commit unsynced for every writer after it.
func (db *DB) withSyncNormal(ctx context.Context, fn func(c *sql.Conn) error) error {
	c, err := db.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
		return db.resetSync(c, err)
	}
	return db.resetSync(c, fn(c))
}

func (db *DB) resetSync(c *sql.Conn, err error) error {
	if _, rerr := c.ExecContext(context.Background(), "PRAGMA synchronous=FULL"); rerr != nil {
		c.Raw(func(any) error { return driver.ErrBadConn }) // the pool closes it
		return errors.Join(err, fmt.Errorf("restore synchronous=FULL: %w", rerr))
	}
	return err
}

// restoreSessionsTx creates the sessions of ss that are missing, not in
// the deletion ledger and whose project still exists (see
// PackCommit.Restore): a deleted session stays deleted, an existing one
// keeps its row, and a project deleted since never fails the commit (which
// would hold up the whole log behind it).
func (db *DB) restoreSessionsTx(ctx context.Context, tx *sql.Tx, ss []*veil.Session) error {
	for _, s := range ss {
		if err := db.prepareSession(s); err != nil {
			return err
		}
		var restorable int
		if err := db.queryRow(ctx, tx, `SELECT COUNT(*) FROM projects WHERE id = ? AND NOT EXISTS
			(SELECT 1 FROM deleted_sessions WHERE project_id = ? AND session_id = ?)`,
			s.ProjectID, s.ProjectID, s.ID).Scan(&restorable); err != nil {
			return wrap("restore session", err)
		}
		if restorable == 0 {
			continue
		}
		if _, err := db.exec(ctx, tx, insertSession+" ON CONFLICT (project_id, id) DO NOTHING", db.sessionArgs(s)...); err != nil {
			return wrap("restore session", err)
		}
	}
	return nil
}
