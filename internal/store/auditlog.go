package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/veil-privacy/veil"
)

// AppendAudit appends one entry to the audit log. In one transaction that
// excludes other appenders it reads the last entry (nil when the log is
// empty) and calls build with it; build returns the entry to insert, with
// Seq, PrevHash and Hash filled in (internal/audit computes the chain). build
// must not call the Repository. The audit log has no update or delete.
func (db *DB) AppendAudit(ctx context.Context, build func(prev *veil.AuditEntry) (*veil.AuditEntry, error)) (*veil.AuditEntry, error) {
	var e *veil.AuditEntry
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if db.dialect == Postgres {
			// Appenders must see each other's last entry: serialise them.
			if _, err := tx.ExecContext(ctx, "LOCK TABLE audit_log IN EXCLUSIVE MODE"); err != nil {
				return fmt.Errorf("lock audit log: %w", err)
			}
		}
		prev, err := scanAudit(db.queryRow(ctx, tx, "SELECT "+auditCols+" FROM audit_log ORDER BY seq DESC LIMIT 1"))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			prev = nil
		case err != nil:
			return fmt.Errorf("read last audit entry: %w", err)
		}
		if e, err = build(prev); err != nil {
			return err
		}
		details := e.Details
		if details == nil {
			details = map[string]string{}
		}
		js, err := json.Marshal(details)
		if err != nil {
			return fmt.Errorf("encode details: %w", err)
		}
		_, err = db.exec(ctx, tx, `INSERT INTO audit_log
			(seq, id, at, org_id, actor_kind, actor_id, action, object_kind, object_id, ip, details, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, e.ID, db.ts(e.Time), e.OrgID, e.ActorKind, e.ActorID, e.Action, e.ObjectKind, e.ObjectID,
			e.IP, string(js), e.PrevHash, e.Hash)
		return err
	})
	if err != nil {
		return nil, wrap("append audit entry", err)
	}
	return e, nil
}

const auditCols = "seq, id, at, org_id, actor_kind, actor_id, action, object_kind, object_id, ip, details, prev_hash, hash"

func scanAudit(s interface{ Scan(...any) error }) (*veil.AuditEntry, error) {
	var (
		e       veil.AuditEntry
		details string
	)
	if err := s.Scan(&e.Seq, &e.ID, timeCol{&e.Time}, &e.OrgID, &e.ActorKind, &e.ActorID, &e.Action,
		&e.ObjectKind, &e.ObjectID, &e.IP, &details, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
		return nil, fmt.Errorf("decode details of audit entry %d: %w", e.Seq, err)
	}
	if len(e.Details) == 0 {
		e.Details = nil
	}
	return &e, nil
}

// ListAudit returns entries matching f in Seq order, at most f.Limit
// (DefaultLimit when not positive, at most 1000).
func (db *DB) ListAudit(ctx context.Context, f veil.AuditFilter) ([]*veil.AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, 1000)
	q, args := "SELECT "+auditCols+" FROM audit_log WHERE seq > ?", []any{f.AfterSeq}
	if f.OrgID != "" {
		q, args = q+" AND org_id = ?", append(args, f.OrgID)
	}
	rows, err := db.query(ctx, db.sql, q+" ORDER BY seq LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, wrap("list audit", err)
	}
	return collect(rows, scanAudit, "list audit")
}
