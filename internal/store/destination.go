package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/veil-privacy/veil"
)

// Destinations: customer storage that recordings are pushed to
// (internal/destination), and the push state of each (destination,
// session, part). A done push row is also the stub of a recording deleted
// under do_not_store: it says where the recording went. Like the lifecycle
// queries these are methods of *DB, not of Repository; the destination
// service declares the interface it needs.

// Push states.
const (
	PushPending = "pending"
	PushDone    = "done"
)

// Destination is a stored destination. Config is JSON without secrets;
// SealedSecret is sealed with the project data key.
type Destination struct {
	ID            string     `json:"id"`
	ProjectID     string     `json:"project_id"`
	Name          string     `json:"name"`
	Kind          string     `json:"kind"`
	Mode          string     `json:"mode"`
	Config        string     `json:"-"`
	SealedSecret  []byte     `json:"-"`
	AgeRecipient  string     `json:"age_recipient,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	FailingSince  *time.Time `json:"failing_since,omitempty"`
	Alert         string     `json:"alert,omitempty"` // short code; "" = no alert
	AlertAt       *time.Time `json:"alert_at,omitempty"`
	LastSuccessAt *time.Time `json:"last_success_at,omitempty"`
	// PausedAt is set while the destination is paused: nothing is pushed
	// to it and (do_not_store) no local copy is deleted.
	PausedAt *time.Time `json:"paused_at,omitempty"`
	// UpdatedAt is when its settings or secrets were last edited.
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// DestinationPush is one part of one session to push to one destination.
// It covers the session's segments packed in (After, Upto].
type DestinationPush struct {
	DestinationID string     `json:"destination_id"`
	ProjectID     string     `json:"project_id"`
	SessionID     string     `json:"session_id"`
	Part          int        `json:"part"`
	After         time.Time  `json:"-"`
	Upto          time.Time  `json:"-"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     string     `json:"last_error,omitempty"`
	Mode          string     `json:"mode"`
	Location      string     `json:"location,omitempty"`
	Prefix        string     `json:"prefix,omitempty"`
	Objects       string     `json:"-"` // JSON list of objects, set when done
	Bytes         int64      `json:"bytes"`
	SHA256        string     `json:"sha256,omitempty"`
	Encrypted     bool       `json:"encrypted"`
	CreatedAt     time.Time  `json:"created_at"`
	PushedAt      *time.Time `json:"pushed_at,omitempty"`
}

// PushStats counts a destination's push rows.
type PushStats struct {
	Pending int64 `json:"pending"`
	Done    int64 `json:"done"`
}

// CreateDestination stores d (ID and CreatedAt are set when empty).
func (db *DB) CreateDestination(ctx context.Context, d *Destination) error {
	if d.ProjectID == "" || d.Kind == "" || d.Mode == "" {
		return invalidf("Destination project, kind and mode required.")
	}
	if d.ID == "" {
		d.ID = veil.NewID("dst")
	}
	d.CreatedAt = db.now()
	_, err := db.exec(ctx, db.w, `INSERT INTO destinations (id, project_id, name, kind, mode, config, secret,
		age_recipient, created_at, alert) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '')`,
		d.ID, d.ProjectID, d.Name, d.Kind, d.Mode, d.Config, nonNil(d.SealedSecret), d.AgeRecipient, db.ts(d.CreatedAt))
	return mapErr(err, "create destination", "A destination with this id already exists.", "Project not found.")
}

const destinationCols = `id, project_id, name, kind, mode, config, secret, age_recipient, created_at,
	failing_since, alert, alert_at, last_success_at, paused_at, updated_at`

func scanDestination(s interface{ Scan(...any) error }) (*Destination, error) {
	var d Destination
	err := s.Scan(&d.ID, &d.ProjectID, &d.Name, &d.Kind, &d.Mode, &d.Config, &d.SealedSecret, &d.AgeRecipient,
		timeCol{&d.CreatedAt}, nullTimeCol{&d.FailingSince}, &d.Alert, nullTimeCol{&d.AlertAt}, nullTimeCol{&d.LastSuccessAt},
		nullTimeCol{&d.PausedAt}, nullTimeCol{&d.UpdatedAt})
	return &d, err
}

// FindDestination returns the project's destination id.
func (db *DB) FindDestination(ctx context.Context, projectID, id string) (*Destination, error) {
	return db.findDestination(ctx, db.sql, projectID, id)
}

func (db *DB) findDestination(ctx context.Context, x querier, projectID, id string) (*Destination, error) {
	d, err := scanDestination(db.queryRow(ctx, x, "SELECT "+destinationCols+
		" FROM destinations WHERE project_id = ? AND id = ?", projectID, id))
	return one(d, err, "find destination", "Destination not found.")
}

// ListDestinations returns the project's destinations, oldest first; with
// projectID "" every destination of every project (the push job).
func (db *DB) ListDestinations(ctx context.Context, projectID string) ([]*Destination, error) {
	q, args := "SELECT "+destinationCols+" FROM destinations ORDER BY created_at, id", []any(nil)
	if projectID != "" {
		q, args = "SELECT "+destinationCols+" FROM destinations WHERE project_id = ? ORDER BY created_at, id", []any{projectID}
	}
	rows, err := db.query(ctx, db.sql, q, args...)
	if err != nil {
		return nil, wrap("list destinations", err)
	}
	return collect(rows, scanDestination, "list destinations")
}

// DeleteDestination removes a destination and its pending pushes. Done
// pushes stay: they are the stubs of recordings pushed there.
func (db *DB) DeleteDestination(ctx context.Context, projectID, id string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, "DELETE FROM destinations WHERE project_id = ? AND id = ?", projectID, id)
		if err != nil {
			return wrap("delete destination", err)
		}
		if err := rowsAffected(res, "Destination not found."); err != nil {
			return err
		}
		_, err = db.exec(ctx, tx, "DELETE FROM destination_pushes WHERE destination_id = ? AND state = ?", id, PushPending)
		return wrap("delete pending pushes", err)
	})
}

// DestinationUpdate is the new name, settings and secrets of a destination
// (kind and mode never change). Prev is the destination as the caller read
// it: the update applies only if its name, settings and secrets are still
// those, so two admins editing at once cannot silently merge each other's
// secrets into the wrong settings.
type DestinationUpdate struct {
	Name         string
	Config       string
	SealedSecret []byte
	AgeRecipient string
	Prev         *Destination
	// RetryNow makes the destination's pending pushes due at once, so a
	// fixed destination is retried at the next push run instead of after
	// its backoff (up to an hour).
	RetryNow bool
}

// UpdateDestination applies u to the project's destination id and returns
// it as stored. Another project's id is ENOTFOUND; a destination changed
// since u.Prev was read is ECONFLICT. Push rows are not touched except for
// RetryNow: done ones keep the location they were pushed to.
func (db *DB) UpdateDestination(ctx context.Context, projectID, id string, u DestinationUpdate) (*Destination, error) {
	if u.Prev == nil || u.Prev.ID != id || u.Config == "" || len(u.SealedSecret) == 0 {
		return nil, invalidf("Destination update needs the previous destination, settings and secrets.")
	}
	now := db.now()
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE destinations SET name = ?, config = ?, secret = ?, age_recipient = ?, updated_at = ?
			WHERE project_id = ? AND id = ? AND name = ? AND config = ? AND secret = ? AND age_recipient = ?`,
			u.Name, u.Config, u.SealedSecret, u.AgeRecipient, db.ts(now),
			projectID, id, u.Prev.Name, u.Prev.Config, nonNil(u.Prev.SealedSecret), u.Prev.AgeRecipient)
		if err != nil {
			return wrap("update destination", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return wrap("update destination", err)
		} else if n == 0 {
			if _, err := db.findDestination(ctx, tx, projectID, id); err != nil {
				return err
			}
			return veil.Errorf(veil.ECONFLICT, "The destination was changed meanwhile; reload it and edit again.")
		}
		if !u.RetryNow {
			return nil
		}
		_, err = db.exec(ctx, tx, "UPDATE destination_pushes SET next_attempt_at = ? WHERE destination_id = ? AND state = ? AND next_attempt_at > ?",
			db.ts(now), id, PushPending, db.ts(now))
		return wrap("reschedule pending pushes", err)
	})
	if err != nil {
		return nil, err
	}
	return db.FindDestination(ctx, projectID, id)
}

// SetDestinationPaused pauses (at != nil) or resumes (nil) the project's
// destination id.
func (db *DB) SetDestinationPaused(ctx context.Context, projectID, id string, at *time.Time) error {
	var v any
	if at != nil {
		v = db.ts(*at)
	}
	res, err := db.exec(ctx, db.w, "UPDATE destinations SET paused_at = ? WHERE project_id = ? AND id = ?", v, projectID, id)
	if err != nil {
		return wrap("pause destination", err)
	}
	return rowsAffected(res, "Destination not found.")
}

// DestinationPushStats counts the destination's pending and done pushes.
func (db *DB) DestinationPushStats(ctx context.Context, id string) (*PushStats, error) {
	var st PushStats
	err := db.queryRow(ctx, db.sql, `SELECT COALESCE(SUM(CASE WHEN state = ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = ? THEN 1 ELSE 0 END), 0) FROM destination_pushes WHERE destination_id = ?`,
		PushPending, PushDone, id).Scan(&st.Pending, &st.Done)
	return &st, wrap("count pushes", err)
}

// lastPacked is, per session of a project, when its newest segment was
// packed (segments.created_at, the server's clock). The second parameter
// limits it to sessions with a segment packed since then.
const lastPacked = `(SELECT session_id, MAX(created_at) AS upto FROM segments WHERE project_id = ? AND created_at >= ?
	GROUP BY session_id)`

// clockSlack is how far behind another node's clock may be: segments it
// packs are looked for this long before a destination's watermark.
const clockSlack = 10 * time.Minute

// EnqueuePushes adds a pending push for up to limit sessions of d's
// project that have segments packed after what d already has (or will
// have) and none packed at or after cutoff: the sessions idle since
// cutoff. Each new row covers the segments packed after the previous
// part's Upto (the previous part may still be pending: parts are
// independent objects) and is due at now. It returns how many rows it
// added.
func (db *DB) EnqueuePushes(ctx context.Context, d *Destination, cutoff, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	added := 0
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		// Sessions are enqueued in order of their newest segment, so every
		// session whose newest segment is older than the destination's
		// newest enqueued one (its watermark) has been enqueued: only
		// segments packed since then need grouping.
		var mark *time.Time
		if err := db.queryRow(ctx, tx, "SELECT MAX(upto_ts) FROM destination_pushes WHERE destination_id = ?", d.ID).
			Scan(nullTimeCol{&mark}); err != nil {
			return wrap("read push watermark", err)
		}
		since := epoch
		if mark != nil {
			since = mark.Add(-clockSlack)
		}
		rows, err := db.query(ctx, tx, `SELECT m.session_id, m.upto,
			(SELECT MAX(p.upto_ts) FROM destination_pushes p WHERE p.destination_id = ? AND p.session_id = m.session_id),
			(SELECT COALESCE(MAX(p.part), 0) FROM destination_pushes p WHERE p.destination_id = ? AND p.session_id = m.session_id)
			FROM `+lastPacked+` m WHERE m.upto < ? AND NOT EXISTS (SELECT 1 FROM destination_pushes p
				WHERE p.destination_id = ? AND p.session_id = m.session_id AND p.upto_ts >= m.upto)
			ORDER BY m.upto, m.session_id LIMIT ?`,
			d.ID, d.ID, d.ProjectID, db.ts(since), db.ts(cutoff), d.ID, limit)
		if err != nil {
			return wrap("list sessions to push", err)
		}
		type cand struct {
			session     string
			upto, after time.Time
			part        int
		}
		var cs []cand
		for rows.Next() {
			var c cand
			var after *time.Time
			if err := rows.Scan(&c.session, timeCol{&c.upto}, nullTimeCol{&after}, &c.part); err != nil {
				rows.Close()
				return wrap("list sessions to push", err)
			}
			if after != nil {
				c.after = *after
			} else {
				c.after = epoch
			}
			cs = append(cs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("list sessions to push", err)
		}
		created := db.now()
		for _, c := range cs {
			_, err := db.exec(ctx, tx, `INSERT INTO destination_pushes (destination_id, project_id, session_id, part,
				after_ts, upto_ts, state, attempts, next_attempt_at, last_error, mode, location, prefix, objects, bytes,
				sha256, encrypted, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, '', ?, '', '', '[]', 0, '', ?, ?)`,
				d.ID, d.ProjectID, c.session, c.part+1, db.ts(c.after), db.ts(c.upto), PushPending, db.ts(now),
				d.Mode, d.AgeRecipient != "", db.ts(created))
			if err != nil {
				return wrap("enqueue push", err)
			}
			added++
		}
		return nil
	})
	return added, err
}

const pushCols = `destination_id, project_id, session_id, part, after_ts, upto_ts, state, attempts, next_attempt_at,
	last_error, mode, location, prefix, objects, bytes, sha256, encrypted, created_at, pushed_at`

func scanPush(s interface{ Scan(...any) error }) (*DestinationPush, error) {
	var p DestinationPush
	err := s.Scan(&p.DestinationID, &p.ProjectID, &p.SessionID, &p.Part, timeCol{&p.After}, timeCol{&p.Upto}, &p.State,
		&p.Attempts, timeCol{&p.NextAttemptAt}, &p.LastError, &p.Mode, &p.Location, &p.Prefix, &p.Objects, &p.Bytes,
		&p.SHA256, &p.Encrypted, timeCol{&p.CreatedAt}, nullTimeCol{&p.PushedAt})
	return &p, err
}

// ListDuePushes returns up to limit pending pushes of the destination due
// at now, most overdue first.
func (db *DB) ListDuePushes(ctx context.Context, destinationID string, now time.Time, limit int) ([]*DestinationPush, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	rows, err := db.query(ctx, db.sql, "SELECT "+pushCols+` FROM destination_pushes
		WHERE destination_id = ? AND state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, session_id, part LIMIT ?`,
		destinationID, PushPending, db.ts(now), limit)
	if err != nil {
		return nil, wrap("list due pushes", err)
	}
	return collect(rows, scanPush, "list due pushes")
}

// ListDestinationPushes returns up to limit push rows of a project's
// destination for its status page: failing ones (pending with an error)
// first, each group newest first.
func (db *DB) ListDestinationPushes(ctx context.Context, projectID, destinationID string, limit int) ([]*DestinationPush, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	rows, err := db.query(ctx, db.sql, "SELECT "+pushCols+` FROM destination_pushes
		WHERE project_id = ? AND destination_id = ?
		ORDER BY CASE WHEN state = ? AND last_error <> '' THEN 0 ELSE 1 END, created_at DESC, session_id, part LIMIT ?`,
		projectID, destinationID, PushPending, limit)
	if err != nil {
		return nil, wrap("list destination pushes", err)
	}
	return collect(rows, scanPush, "list destination pushes")
}

// ListSessionPushes returns every push row of a session (all
// destinations), oldest first: the stub of a recording deleted under
// do_not_store.
func (db *DB) ListSessionPushes(ctx context.Context, projectID, sessionID string) ([]*DestinationPush, error) {
	rows, err := db.query(ctx, db.sql, "SELECT "+pushCols+` FROM destination_pushes
		WHERE project_id = ? AND session_id = ? ORDER BY created_at, destination_id, part`, projectID, sessionID)
	if err != nil {
		return nil, wrap("list session pushes", err)
	}
	return collect(rows, scanPush, "list session pushes")
}

// CompletePush marks p done with its Location, Prefix, Objects, Bytes,
// SHA256 and Encrypted, clears the destination's failure and alert, and
// writes ev (recording.pushed) to the webhook outbox, in one transaction.
func (db *DB) CompletePush(ctx context.Context, p *DestinationPush, ev veil.WebhookEvent) error {
	now := db.now()
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE destination_pushes SET state = ?, attempts = attempts + 1, last_error = '',
			location = ?, prefix = ?, objects = ?, bytes = ?, sha256 = ?, encrypted = ?, pushed_at = ?
			WHERE destination_id = ? AND session_id = ? AND part = ? AND state = ?`,
			PushDone, p.Location, p.Prefix, p.Objects, p.Bytes, p.SHA256, p.Encrypted, db.ts(now),
			p.DestinationID, p.SessionID, p.Part, PushPending)
		if err != nil {
			return wrap("complete push", err)
		}
		if err := rowsAffected(res, "Push not found."); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, `UPDATE destinations SET failing_since = NULL, alert = '', alert_at = NULL,
			last_success_at = ? WHERE id = ?`, db.ts(now), p.DestinationID); err != nil {
			return wrap("clear destination failure", err)
		}
		p.State, p.PushedAt = PushDone, &now
		_, err = db.EmitWebhookEventTx(ctx, tx, ev)
		return err
	})
}

// FailPush records a failed attempt of p: its error code and next try,
// and marks the destination failing. When the push has now failed
// alertAfter times and the destination has no alert yet, it raises one
// (alert = code) and writes ev (destination.failed) to the webhook outbox,
// all in one transaction; it reports whether it raised the alert.
func (db *DB) FailPush(ctx context.Context, p *DestinationPush, code string, next time.Time, alertAfter int, ev veil.WebhookEvent) (bool, error) {
	now := db.now()
	alerted := false
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var attempts int
		err := db.queryRow(ctx, tx, `UPDATE destination_pushes SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
			WHERE destination_id = ? AND session_id = ? AND part = ? AND state = ? RETURNING attempts`,
			code, db.ts(next), p.DestinationID, p.SessionID, p.Part, PushPending).Scan(&attempts)
		if err == sql.ErrNoRows {
			return notFoundErr("Push not found.")
		} else if err != nil {
			return wrap("fail push", err)
		}
		p.Attempts, p.LastError, p.NextAttemptAt = attempts, code, next
		if _, err := db.exec(ctx, tx, `UPDATE destinations SET failing_since = COALESCE(failing_since, ?) WHERE id = ?`,
			db.ts(now), p.DestinationID); err != nil {
			return wrap("mark destination failing", err)
		}
		if attempts < alertAfter {
			return nil
		}
		res, err := db.exec(ctx, tx, `UPDATE destinations SET alert = ?, alert_at = ? WHERE id = ? AND alert = ''`,
			code, db.ts(now), p.DestinationID)
		if err != nil {
			return wrap("raise destination alert", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already alerted
		}
		alerted = true
		_, err = db.EmitWebhookEventTx(ctx, tx, ev)
		return err
	})
	return alerted, err
}

// PushedSession is a session whose every segment has been pushed to every
// destination of its project.
type PushedSession struct {
	SessionID string
	Upto      time.Time // newest segment's packing time
}

// ListFullyPushedSessions returns up to limit sessions of the project
// still stored here that every destination of the project has received
// completely (a done push covering the newest segment).
func (db *DB) ListFullyPushedSessions(ctx context.Context, projectID string, limit int) ([]*PushedSession, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	rows, err := db.query(ctx, db.sql, `SELECT m.session_id, m.upto FROM `+lastPacked+` m
		WHERE EXISTS (SELECT 1 FROM destinations d WHERE d.project_id = ?)
		AND NOT EXISTS (SELECT 1 FROM destinations d WHERE d.project_id = ? AND NOT EXISTS (
			SELECT 1 FROM destination_pushes p WHERE p.destination_id = d.id AND p.session_id = m.session_id
			AND p.state = ? AND p.upto_ts >= m.upto))
		ORDER BY m.upto, m.session_id LIMIT ?`, projectID, db.ts(epoch), projectID, projectID, PushDone, limit)
	if err != nil {
		return nil, wrap("list pushed sessions", err)
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (*PushedSession, error) {
		var s PushedSession
		err := r.Scan(&s.SessionID, timeCol{&s.Upto})
		return &s, err
	}, "list pushed sessions")
}

// ShredPushedSession crypto-shreds a session exactly as ShredSession does
// (reason "do_not_store"), but only if no segment of it was packed after
// upto (what the destinations received); otherwise it changes nothing and
// answers ECONFLICT, and the new segments are pushed first.
func (db *DB) ShredPushedSession(ctx context.Context, projectID, sessionID string, upto time.Time) (*ShredResult, error) {
	res := &ShredResult{}
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		// Lock the session row first (Postgres), so a packer commit adding
		// a segment waits for this transaction.
		r, err := db.exec(ctx, tx, "UPDATE sessions SET segments = segments WHERE project_id = ? AND id = ?", projectID, sessionID)
		if err != nil {
			return wrap("lock session", err)
		}
		if err := rowsAffected(r, "Session not found."); err != nil {
			return err
		}
		var newer int
		if err := db.queryRow(ctx, tx, "SELECT COUNT(*) FROM segments WHERE project_id = ? AND session_id = ? AND created_at > ?",
			projectID, sessionID, db.ts(upto)).Scan(&newer); err != nil {
			return wrap("count new segments", err)
		}
		if newer > 0 {
			return veil.Errorf(veil.ECONFLICT, "Session has segments not pushed yet.")
		}
		return db.shredSessionTx(ctx, tx, projectID, sessionID, "do_not_store", res)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// PushGone is the state of a push whose session was deleted before it
// could be pushed (by a user, retention or erasure): nothing is left to
// push.
const PushGone = "gone"

// DropPush marks a pending push gone, with reason as its last error.
func (db *DB) DropPush(ctx context.Context, p *DestinationPush, reason string) error {
	res, err := db.exec(ctx, db.w, `UPDATE destination_pushes SET state = ?, last_error = ?
		WHERE destination_id = ? AND session_id = ? AND part = ? AND state = ?`,
		PushGone, reason, p.DestinationID, p.SessionID, p.Part, PushPending)
	if err != nil {
		return wrap("drop push", err)
	}
	return rowsAffected(res, "Push not found.")
}
