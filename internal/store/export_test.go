package store

import (
	"context"
	"fmt"
	"strings"
)

// SetTagDriveLimit lets tests run the custom event filter through both of
// SQLite's plans; it returns a function restoring the limit.
func SetTagDriveLimit(n int) func() {
	old := tagDriveLimit
	tagDriveLimit = n
	return func() { tagDriveLimit = old }
}

// ExplainSessionPage returns the plan of FindSessionPage's query for q, one
// line per step: SQLite's EXPLAIN QUERY PLAN details, Postgres' EXPLAIN.
// Postgres plans by statistics, which a test's few rows make meaningless,
// so unless analyze is set (a benchmark's EXPLAIN ANALYZE at scale)
// sequential scans, bitmap scans and sorts are priced as they are at scale
// (a sort still shows if no index gives the order).
func (db *DB) ExplainSessionPage(ctx context.Context, q SessionQuery, analyze bool) (string, error) {
	query, args, _, _, err := db.sessionPageSQL(ctx, q)
	if err != nil {
		return "", err
	}
	return db.explain(ctx, query, args, analyze)
}

// ExplainCountSessions is ExplainSessionPage for CountSessions(q, limit).
func (db *DB) ExplainCountSessions(ctx context.Context, q SessionQuery, limit int, analyze bool) (string, error) {
	query, args, err := db.countSQL(ctx, q, limit)
	if err != nil {
		return "", err
	}
	return db.explain(ctx, query, args, analyze)
}

func (db *DB) explain(ctx context.Context, query string, args []any, analyze bool) (string, error) {
	var x querier = db.sql
	prefix, col := "EXPLAIN QUERY PLAN ", 3
	if db.dialect == Postgres {
		tx, err := db.sql.BeginTx(ctx, nil)
		if err != nil {
			return "", err
		}
		defer tx.Rollback()
		x, prefix, col = tx, "EXPLAIN ", 0
		settings := []string{"enable_seqscan", "enable_bitmapscan", "enable_sort"}
		if analyze {
			prefix, settings = "EXPLAIN ANALYZE ", nil
		}
		for _, s := range settings {
			if _, err := tx.ExecContext(ctx, "SET LOCAL "+s+" = off"); err != nil {
				return "", err
			}
		}
	}
	rows, err := db.query(ctx, x, prefix+query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		lines = append(lines, fmt.Sprint(vals[col]))
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// WriteSynchronous returns PRAGMA synchronous of the SQLite write
// connection (2 is FULL).
func (db *DB) WriteSynchronous(tb interface{ Fatal(...any) }) string {
	var v string
	if err := db.w.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&v); err != nil {
		tb.Fatal(err)
	}
	return v
}
