package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/veil-privacy/veil"
)

// Webhooks: endpoints, the durable outbox (webhook_messages) and the
// delivery log (webhook_attempts). Events are written to the outbox in the
// transaction of the change that causes them (EmitWebhookEventTx), so an
// event is never lost nor sent for a change that rolled back. Delivery
// workers on any number of nodes claim due messages with a per-message
// lease (ClaimWebhookMessages) and record each attempt's outcome
// (RecordWebhookResult).

// epoch is the "no lease" value of lease_until.
var epoch = time.Unix(0, 0).UTC()

// CreateWebhookEndpoint stores e (SealedSecret required).
func (db *DB) CreateWebhookEndpoint(ctx context.Context, e *veil.WebhookEndpoint) error {
	switch {
	case e.ProjectID == "":
		return invalidf("Project required.")
	case e.URL == "":
		return invalidf("Endpoint URL required.")
	case len(e.SealedSecret) == 0:
		return invalidf("Endpoint secret required.")
	}
	types, err := encodeTypes(e.EventTypes)
	if err != nil {
		return err
	}
	if e.ID == "" {
		e.ID = veil.NewID("ep")
	}
	e.CreatedAt = db.now()
	_, err = db.exec(ctx, db.w, `INSERT INTO webhook_endpoints (id, project_id, url, description, event_types, enabled,
		disabled_reason, secret, prev_secret, prev_secret_until, failing_since, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.ProjectID, e.URL, e.Description, types, e.Enabled, e.DisabledReason, e.SealedSecret,
		nullBytes(e.SealedPrevSecret), db.tsPtr(e.PrevSecretUntil), db.tsPtr(e.FailingSince), db.ts(e.CreatedAt))
	return mapErr(err, "create webhook endpoint", "A webhook endpoint with this id already exists.", "Project not found.")
}

func encodeTypes(types []string) (string, error) {
	if types == nil {
		types = []string{}
	}
	b, err := json.Marshal(types)
	if err != nil {
		return "", fmt.Errorf("encode event types: %w", err)
	}
	return string(b), nil
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

const endpointCols = `id, project_id, url, description, event_types, enabled, disabled_reason, secret,
	prev_secret, prev_secret_until, failing_since, created_at`

func scanEndpoint(s interface{ Scan(...any) error }) (*veil.WebhookEndpoint, error) {
	var (
		e     veil.WebhookEndpoint
		types string
	)
	if err := s.Scan(&e.ID, &e.ProjectID, &e.URL, &e.Description, &types, &e.Enabled, &e.DisabledReason,
		&e.SealedSecret, &e.SealedPrevSecret, nullTimeCol{&e.PrevSecretUntil}, nullTimeCol{&e.FailingSince},
		timeCol{&e.CreatedAt}); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, fmt.Errorf("decode event types of endpoint %s: %w", e.ID, err)
	}
	if len(e.EventTypes) == 0 {
		e.EventTypes = nil
	}
	return &e, nil
}

// FindWebhookEndpoint returns the project's endpoint id.
func (db *DB) FindWebhookEndpoint(ctx context.Context, projectID, id string) (*veil.WebhookEndpoint, error) {
	e, err := scanEndpoint(db.queryRow(ctx, db.sql, "SELECT "+endpointCols+" FROM webhook_endpoints WHERE project_id = ? AND id = ?", projectID, id))
	return one(e, err, "find webhook endpoint", "Webhook endpoint not found.")
}

// ListWebhookEndpoints returns the project's endpoints, oldest first.
func (db *DB) ListWebhookEndpoints(ctx context.Context, projectID string) ([]*veil.WebhookEndpoint, error) {
	rows, err := db.query(ctx, db.sql, "SELECT "+endpointCols+" FROM webhook_endpoints WHERE project_id = ? ORDER BY created_at, id", projectID)
	if err != nil {
		return nil, wrap("list webhook endpoints", err)
	}
	return collect(rows, scanEndpoint, "list webhook endpoints")
}

// UpdateWebhookEndpoint saves e's URL, description, event types, enabled
// flag, disabled reason and secrets, and reads back FailingSince.
// Enabling a disabled endpoint clears its failure tracking.
func (db *DB) UpdateWebhookEndpoint(ctx context.Context, e *veil.WebhookEndpoint) error {
	types, err := encodeTypes(e.EventTypes)
	if err != nil {
		return err
	}
	if e.Enabled {
		e.DisabledReason = ""
	}
	// failing_since belongs to the workers (RecordWebhookResult); it is
	// only cleared here when a disabled endpoint is enabled again.
	err = db.queryRow(ctx, db.w, `UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?,
		failing_since = CASE WHEN NOT enabled AND ? THEN NULL ELSE failing_since END, enabled = ?,
		disabled_reason = ?, secret = ?, prev_secret = ?, prev_secret_until = ?
		WHERE project_id = ? AND id = ? RETURNING failing_since`,
		e.URL, e.Description, types, e.Enabled, e.Enabled, e.DisabledReason, e.SealedSecret, nullBytes(e.SealedPrevSecret),
		db.tsPtr(e.PrevSecretUntil), e.ProjectID, e.ID).Scan(nullTimeCol{&e.FailingSince})
	if err == sql.ErrNoRows {
		return notFoundErr("Webhook endpoint not found.")
	}
	return wrap("update webhook endpoint", err)
}

// DeleteWebhookEndpoint deletes the endpoint with its messages and log.
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, projectID, id string) error {
	res, err := db.exec(ctx, db.w, "DELETE FROM webhook_endpoints WHERE project_id = ? AND id = ?", projectID, id)
	if err != nil {
		return wrap("delete webhook endpoint", err)
	}
	return rowsAffected(res, "Webhook endpoint not found.")
}

// WebhookPayload is the body of every webhook message (Standard Webhooks
// shape): the event type, when it happened, and its data.
type WebhookPayload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// EmitWebhookEventTx writes ev to the outbox inside tx: one pending
// message for each enabled endpoint of ev.ProjectID that accepts ev.Type.
// Call it from the transaction of the change that causes the event; if
// that transaction rolls back, no message exists. It returns the message
// ids (none when nobody subscribes).
func (db *DB) EmitWebhookEventTx(ctx context.Context, tx *sql.Tx, ev veil.WebhookEvent) ([]string, error) {
	return db.newOutbox(tx).emit(ctx, ev)
}

// outbox writes events into one transaction, reading each project's
// enabled endpoints once (a packer commit may start hundreds of sessions).
type outbox struct {
	db  *DB
	tx  *sql.Tx
	now time.Time
	eps map[string][]*veil.WebhookEndpoint
	ins *sql.Stmt // insertMessageSQL, when prepared (batch emitters)
}

// prepare prepares the message insert for many emits; close releases it.
func (o *outbox) prepare(ctx context.Context) error {
	st, err := o.tx.PrepareContext(ctx, o.db.q(insertMessageSQL))
	if err != nil {
		return wrap("prepare webhook message insert", err)
	}
	o.ins = st
	return nil
}

func (o *outbox) close() {
	if o.ins != nil {
		o.ins.Close()
	}
}

func (db *DB) newOutbox(tx *sql.Tx) *outbox {
	return &outbox{db: db, tx: tx, now: db.now(), eps: map[string][]*veil.WebhookEndpoint{}}
}

// endpoints returns the project's enabled endpoints.
func (o *outbox) endpoints(ctx context.Context, projectID string) ([]*veil.WebhookEndpoint, error) {
	if eps, ok := o.eps[projectID]; ok {
		return eps, nil
	}
	rows, err := o.db.query(ctx, o.tx, "SELECT "+endpointCols+" FROM webhook_endpoints WHERE project_id = ? AND enabled = ?", projectID, true)
	if err != nil {
		return nil, wrap("emit webhook event", err)
	}
	eps, err := collect(rows, scanEndpoint, "emit webhook event")
	if err != nil {
		return nil, err
	}
	o.eps[projectID] = eps
	return eps, nil
}

// subscribed reports whether an enabled endpoint of the project accepts
// typ, so callers can skip building payloads nobody receives.
func (o *outbox) subscribed(ctx context.Context, projectID, typ string) (bool, error) {
	eps, err := o.endpoints(ctx, projectID)
	if err != nil {
		return false, err
	}
	for _, e := range eps {
		if e.Accepts(typ) {
			return true, nil
		}
	}
	return false, nil
}

func (o *outbox) emit(ctx context.Context, ev veil.WebhookEvent) ([]string, error) {
	if ev.ProjectID == "" || ev.Type == "" {
		return nil, invalidf("Event project and type required.")
	}
	eps, err := o.endpoints(ctx, ev.ProjectID)
	if err != nil {
		return nil, err
	}
	var (
		ids  []string
		body []byte
	)
	for _, e := range eps {
		if !e.Accepts(ev.Type) {
			continue
		}
		if body == nil {
			if body, err = json.Marshal(WebhookPayload{Type: ev.Type, Timestamp: o.now, Data: ev.Data}); err != nil {
				return nil, fmt.Errorf("emit webhook event: encode %s: %w", ev.Type, err)
			}
		}
		m := &veil.WebhookMessage{EndpointID: e.ID, ProjectID: e.ProjectID, EventType: ev.Type, Payload: body}
		if o.ins != nil {
			_, err = o.ins.ExecContext(ctx, o.db.messageArgs(m, o.now)...)
			err = mapErr(err, "queue webhook message", "A webhook message with this id already exists.", "Webhook endpoint not found.")
		} else {
			err = o.db.insertMessage(ctx, o.tx, m, o.now)
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, m.ID)
	}
	return ids, nil
}

// EmitWebhookEvent is EmitWebhookEventTx in a transaction of its own, for
// events that do not follow a change in this database (export.completed,
// destination.failed).
func (db *DB) EmitWebhookEvent(ctx context.Context, ev veil.WebhookEvent) ([]string, error) {
	var ids []string
	err := db.withTx(ctx, func(tx *sql.Tx) (err error) {
		ids, err = db.EmitWebhookEventTx(ctx, tx, ev)
		return err
	})
	return ids, err
}

// WithWebhookTx runs fn in a write transaction and commits if it returns
// nil. fn may write with tx and call EmitWebhookEventTx; it must not call
// other DB methods (on SQLite they would wait for this transaction).
func (db *DB) WithWebhookTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.withTx(ctx, fn)
}

// RevokeKeyAndEmit revokes a project's write key at at (as RevokeKey: an
// earlier revocation is kept, a later scheduled one is brought forward)
// and, when that changed the key, writes a key.revoked event to the outbox
// in the same transaction.
func (db *DB) RevokeKeyAndEmit(ctx context.Context, projectID, keyID string, at time.Time) error {
	defer db.keysChanged()
	return db.withTx(ctx, func(tx *sql.Tx) error {
		var (
			prefix, kind string
			revoked      *time.Time
		)
		err := db.queryRow(ctx, tx, "SELECT prefix, kind, revoked_at FROM write_keys WHERE project_id = ? AND id = ?", projectID, keyID).
			Scan(&prefix, &kind, nullTimeCol{&revoked})
		if err == sql.ErrNoRows {
			return notFoundErr("Key not found.")
		} else if err != nil {
			return wrap("revoke key", err)
		}
		at = at.UTC().Truncate(time.Microsecond)
		if revoked != nil && !revoked.After(at) {
			return nil // already revoked by then; the event was sent
		}
		// A rotated key's scheduled revocation is brought forward, as
		// RevokeKey does.
		if _, err := db.exec(ctx, tx, "UPDATE write_keys SET revoked_at = ? WHERE project_id = ? AND id = ?",
			db.ts(at), projectID, keyID); err != nil {
			return wrap("revoke key", err)
		}
		_, err = db.EmitWebhookEventTx(ctx, tx, veil.WebhookEvent{ProjectID: projectID, Type: "key.revoked",
			Data: map[string]any{"project_id": projectID, "key_id": keyID, "key_prefix": prefix, "kind": kind,
				"revoked_at": at}})
		return err
	})
}

// CreateWebhookMessage queues m for its endpoint alone (test events).
func (db *DB) CreateWebhookMessage(ctx context.Context, m *veil.WebhookMessage) error {
	return db.withTx(ctx, func(tx *sql.Tx) error { return db.insertMessage(ctx, tx, m, db.now()) })
}

const insertMessageSQL = `INSERT INTO webhook_messages (id, endpoint_id, project_id, event_type, payload, status,
		attempts, tries, next_attempt_at, lease_holder, lease_until, last_status, last_error, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, '', ?, 0, '', ?)`

// messageArgs fills m's defaults and returns insertMessageSQL's arguments.
func (db *DB) messageArgs(m *veil.WebhookMessage, now time.Time) []any {
	if m.ID == "" {
		m.ID = veil.NewID("msg")
	}
	m.Status, m.Attempts, m.Tries, m.CreatedAt, m.NextAttemptAt = veil.WebhookPending, 0, 0, now, now
	return []any{m.ID, m.EndpointID, m.ProjectID, m.EventType, []byte(m.Payload), m.Status, db.ts(now), db.ts(epoch), db.ts(now)}
}

func (db *DB) insertMessage(ctx context.Context, tx *sql.Tx, m *veil.WebhookMessage, now time.Time) error {
	_, err := db.exec(ctx, tx, insertMessageSQL, db.messageArgs(m, now)...)
	return mapErr(err, "queue webhook message", "A webhook message with this id already exists.", "Webhook endpoint not found.")
}

const messageCols = `m.id, m.endpoint_id, m.project_id, m.event_type, m.payload, m.status, m.attempts, m.tries,
	m.next_attempt_at, m.last_status, m.last_error, m.created_at, m.delivered_at`

func scanMessage(s interface{ Scan(...any) error }) (*veil.WebhookMessage, error) {
	var (
		m       veil.WebhookMessage
		payload []byte
	)
	if err := s.Scan(&m.ID, &m.EndpointID, &m.ProjectID, &m.EventType, &payload, &m.Status, &m.Attempts, &m.Tries,
		timeCol{&m.NextAttemptAt}, &m.LastStatus, &m.LastError, timeCol{&m.CreatedAt}, nullTimeCol{&m.DeliveredAt}); err != nil {
		return nil, err
	}
	m.Payload = payload
	return &m, nil
}

// FindWebhookMessage returns the project's message id.
func (db *DB) FindWebhookMessage(ctx context.Context, projectID, id string) (*veil.WebhookMessage, error) {
	m, err := scanMessage(db.queryRow(ctx, db.sql, "SELECT "+messageCols+" FROM webhook_messages m WHERE m.project_id = ? AND m.id = ?", projectID, id))
	return one(m, err, "find webhook message", "Webhook message not found.")
}

// ListWebhookMessages returns the endpoint's messages, newest first;
// limit <= 0 means DefaultLimit.
func (db *DB) ListWebhookMessages(ctx context.Context, projectID, endpointID string, limit int) ([]*veil.WebhookMessage, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	rows, err := db.query(ctx, db.sql, "SELECT "+messageCols+` FROM webhook_messages m
		WHERE m.project_id = ? AND m.endpoint_id = ? ORDER BY m.created_at DESC, m.id DESC LIMIT ?`, projectID, endpointID, limit)
	if err != nil {
		return nil, wrap("list webhook messages", err)
	}
	return collect(rows, scanMessage, "list webhook messages")
}

// ListWebhookAttempts returns the message's attempts in order.
func (db *DB) ListWebhookAttempts(ctx context.Context, messageID string) ([]*veil.WebhookAttempt, error) {
	rows, err := db.query(ctx, db.sql, `SELECT message_id, attempt, at, status_code, error, latency_ms, excerpt
		FROM webhook_attempts WHERE message_id = ? ORDER BY attempt`, messageID)
	if err != nil {
		return nil, wrap("list webhook attempts", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (*veil.WebhookAttempt, error) {
		var a veil.WebhookAttempt
		return &a, s.Scan(&a.MessageID, &a.Attempt, timeCol{&a.At}, &a.StatusCode, &a.Error, &a.LatencyMS, &a.Excerpt)
	}, "list webhook attempts")
}

// ResendWebhookMessage queues the project's message again, now, with the
// same id and body and a fresh retry schedule.
func (db *DB) ResendWebhookMessage(ctx context.Context, projectID, id string) error {
	res, err := db.exec(ctx, db.w, `UPDATE webhook_messages SET status = ?, tries = 0, next_attempt_at = ?, delivered_at = NULL
		WHERE project_id = ? AND id = ?`, veil.WebhookPending, db.ts(db.now()), projectID, id)
	if err != nil {
		return wrap("resend webhook message", err)
	}
	return rowsAffected(res, "Webhook message not found.")
}

// ClaimWebhookMessages leases up to limit due messages of enabled
// endpoints to holder for ttl, never leaving more than perEndpoint
// messages of one endpoint leased at once (0 = no limit). A message whose
// holder died is claimable again once its lease expires, so delivery is
// at least once. Safe across processes sharing the database.
func (db *DB) ClaimWebhookMessages(ctx context.Context, holder string, ttl time.Duration, limit, perEndpoint int) ([]veil.WebhookDelivery, error) {
	if holder == "" || ttl <= 0 || limit <= 0 {
		return nil, invalidf("Holder, positive lease TTL and limit required.")
	}
	var out []veil.WebhookDelivery
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		now := db.now()
		lock := ""
		if db.dialect == Postgres {
			lock = " FOR UPDATE OF m SKIP LOCKED"
		}
		rows, err := db.query(ctx, tx, "SELECT "+messageCols+` FROM webhook_messages m
			JOIN webhook_endpoints e ON e.id = m.endpoint_id
			WHERE m.status = ? AND m.next_attempt_at <= ? AND m.lease_until <= ? AND e.enabled = ?
			ORDER BY m.next_attempt_at, m.id LIMIT ?`+lock,
			veil.WebhookPending, db.ts(now), db.ts(now), true, limit*4)
		if err != nil {
			return wrap("claim webhook messages", err)
		}
		cands, err := collect(rows, scanMessage, "claim webhook messages")
		if err != nil {
			return err
		}
		busy := map[string]int{}
		if perEndpoint > 0 && len(cands) > 0 {
			rows, err := db.query(ctx, tx, `SELECT endpoint_id, COUNT(*) FROM webhook_messages
				WHERE status = ? AND lease_until > ? GROUP BY endpoint_id`, veil.WebhookPending, db.ts(now))
			if err != nil {
				return wrap("claim webhook messages", err)
			}
			type count struct {
				id string
				n  int
			}
			cs, err := collect(rows, func(s interface{ Scan(...any) error }) (count, error) {
				var c count
				return c, s.Scan(&c.id, &c.n)
			}, "claim webhook messages")
			if err != nil {
				return err
			}
			for _, c := range cs {
				busy[c.id] = c.n
			}
		}
		eps := map[string]*veil.WebhookEndpoint{}
		for _, m := range cands {
			if len(out) == limit {
				break
			}
			if perEndpoint > 0 && busy[m.EndpointID] >= perEndpoint {
				continue
			}
			res, err := db.exec(ctx, tx, "UPDATE webhook_messages SET lease_holder = ?, lease_until = ? WHERE id = ? AND lease_until <= ?",
				holder, db.ts(now.Add(ttl)), m.ID, db.ts(now))
			if err != nil {
				return wrap("claim webhook message", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			busy[m.EndpointID]++
			e := eps[m.EndpointID]
			if e == nil {
				e, err = scanEndpoint(db.queryRow(ctx, tx, "SELECT "+endpointCols+" FROM webhook_endpoints WHERE id = ?", m.EndpointID))
				if err != nil {
					return wrap("claim webhook messages: endpoint", err)
				}
				eps[m.EndpointID] = e
			}
			out = append(out, veil.WebhookDelivery{Message: m, Endpoint: e})
		}
		return nil
	})
	return out, err
}

// RecordWebhookResult records one attempt and its consequences in one
// transaction: the attempt row, the message's new state (delivered,
// retried at r.NextAttemptAt, or failed) with its lease released, and the
// endpoint's failure tracking (cleared on success, started on failure;
// disabled when r.DisableEndpoint is set). It reports whether this call
// disabled the endpoint (false if it already was), so the alert fires
// once. A holder that lost the lease gets ECONFLICT and nothing changes.
func (db *DB) RecordWebhookResult(ctx context.Context, r *veil.WebhookResult) (disabled bool, err error) {
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		now := db.now()
		a := &r.Attempt
		a.At = a.At.UTC().Truncate(time.Microsecond)
		status, next := veil.WebhookFailed, now
		var delivered any
		switch {
		case r.Delivered:
			status, delivered = veil.WebhookDelivered, db.ts(a.At)
		case r.NextAttemptAt != nil:
			status, next = veil.WebhookPending, *r.NextAttemptAt
		}
		var attempts int
		var endpointID string
		err := db.queryRow(ctx, tx, `UPDATE webhook_messages SET attempts = attempts + 1, tries = tries + 1, status = ?,
			next_attempt_at = ?, last_status = ?, last_error = ?, delivered_at = ?, lease_holder = '', lease_until = ?
			WHERE id = ? AND lease_holder = ? RETURNING attempts, endpoint_id`,
			status, db.ts(next), a.StatusCode, a.Error, delivered, db.ts(epoch), a.MessageID, r.Holder).Scan(&attempts, &endpointID)
		if err == sql.ErrNoRows {
			return veil.Errorf(veil.ECONFLICT, "Webhook message lease lost.")
		} else if err != nil {
			return wrap("record webhook result", err)
		}
		a.Attempt = attempts
		if _, err := db.exec(ctx, tx, `INSERT INTO webhook_attempts (message_id, attempt, at, status_code, error, latency_ms, excerpt)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, a.MessageID, a.Attempt, db.ts(a.At), a.StatusCode, a.Error, a.LatencyMS, a.Excerpt); err != nil {
			return wrap("record webhook attempt", err)
		}
		if r.Delivered {
			_, err = db.exec(ctx, tx, "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?", endpointID)
		} else {
			_, err = db.exec(ctx, tx, "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?) WHERE id = ?", db.ts(a.At), endpointID)
		}
		if err != nil {
			return wrap("record webhook endpoint state", err)
		}
		if r.DisableEndpoint != "" {
			res, err := db.exec(ctx, tx, "UPDATE webhook_endpoints SET enabled = ?, disabled_reason = ? WHERE id = ? AND enabled = ?",
				false, r.DisableEndpoint, endpointID, true)
			if err != nil {
				return wrap("disable webhook endpoint", err)
			}
			n, _ := res.RowsAffected()
			disabled = n == 1
		}
		return nil
	})
	return disabled, err
}

// DeleteWebhookMessagesBefore deletes finished (delivered or failed)
// messages created before before, with their attempts, and returns how
// many. Pending messages are kept whatever their age. Idempotent, so any
// number of nodes may run it.
func (db *DB) DeleteWebhookMessagesBefore(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		// Attempts first, explicitly, rather than relying on the cascade.
		if _, err := db.exec(ctx, tx, `DELETE FROM webhook_attempts WHERE message_id IN
			(SELECT id FROM webhook_messages WHERE status <> ? AND created_at < ?)`, veil.WebhookPending, db.ts(before)); err != nil {
			return err
		}
		res, err := db.exec(ctx, tx, "DELETE FROM webhook_messages WHERE status <> ? AND created_at < ?", veil.WebhookPending, db.ts(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), wrap("delete old webhook messages", err)
}

// CountPendingWebhookMessages returns how many messages wait for delivery
// (the outbox backlog, for a metric) and the creation time of the oldest.
func (db *DB) CountPendingWebhookMessages(ctx context.Context) (n int, oldest *time.Time, err error) {
	err = db.queryRow(ctx, db.sql, "SELECT COUNT(*), MIN(created_at) FROM webhook_messages WHERE status = ?", veil.WebhookPending).
		Scan(&n, nullTimeCol{&oldest})
	return n, oldest, wrap("count pending webhook messages", err)
}
