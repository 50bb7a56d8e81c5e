package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The SQL in this package is written once, with ? placeholders and
// portable syntax (ON CONFLICT, RETURNING, CASE); these helpers cover what
// still differs between the dialects.

// querier is what *sql.DB, *sql.Tx and *sql.Conn have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q rewrites ? placeholders to $1, $2, … for Postgres. Queries in this
// package never contain a literal '?'.
func (db *DB) q(query string) string {
	if db.dialect != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

func (db *DB) exec(ctx context.Context, x querier, query string, args ...any) (sql.Result, error) {
	return x.ExecContext(ctx, db.q(query), args...)
}

func (db *DB) query(ctx context.Context, x querier, query string, args ...any) (*sql.Rows, error) {
	return x.QueryContext(ctx, db.q(query), args...)
}

func (db *DB) queryRow(ctx context.Context, x querier, query string, args ...any) *sql.Row {
	return x.QueryRowContext(ctx, db.q(query), args...)
}

// ts encodes t for storage: INTEGER unix microseconds on SQLite (exact and
// sortable; SQLite has no time type), TIMESTAMPTZ on Postgres. Both keep
// microseconds, so t is truncated to them and round-trips exactly.
func (db *DB) ts(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if db.dialect == SQLite {
		return t.UnixMicro()
	}
	return t
}

// tsPtr is ts for a nullable column.
func (db *DB) tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return db.ts(*t)
}

// timeCol scans either encoding of ts into a UTC time.Time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	case time.Time:
		*c.t = v.UTC()
	default:
		return fmt.Errorf("scan time: unexpected %T", v)
	}
	return nil
}

// nullTimeCol scans a nullable time column; NULL leaves *t nil.
type nullTimeCol struct{ t **time.Time }

func (c nullTimeCol) Scan(v any) error {
	if v == nil {
		*c.t = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(v); err != nil {
		return err
	}
	*c.t = &t
	return nil
}

// constraint classifies a driver error as a violated constraint.
type constraint int

const (
	noConstraint constraint = iota
	uniqueViolation
	foreignKeyViolation
)

func classify(err error) constraint {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return uniqueViolation
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyViolation
		}
		return noConstraint
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return uniqueViolation
		case "23503":
			return foreignKeyViolation
		}
	}
	return noConstraint
}

// withTx runs fn in a transaction and commits it if fn returns nil. On
// SQLite the transaction is BEGIN IMMEDIATE (see Open).
func (db *DB) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// rowsAffected returns ENOTFOUND with msg when res changed no row.
func rowsAffected(res sql.Result, notFound string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return notFoundErr(notFound)
	}
	return nil
}
