package store

import (
	"context"
	"database/sql"
	"fmt"
)

// prepared returns a statement on the read pool prepared once per query.
// Hot lookups (ingest authenticates every request) would otherwise spend
// most of their time in SQLite's parser.
func (db *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := db.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.sql.PrepareContext(ctx, db.q(query))
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if prev, loaded := db.stmts.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// closeStatements closes the prepared statements (on Close).
func (db *DB) closeStatements() {
	db.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		db.stmts.Delete(k)
		return true
	})
}
