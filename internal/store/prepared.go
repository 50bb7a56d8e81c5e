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
	return db.preparedOn(ctx, db.sql, query)
}

// preparedOn is prepared for a given pool (the read pool or the writer).
// A statement for the writer is used inside transactions through
// tx.StmtContext; prepare it before the transaction begins.
func (db *DB) preparedOn(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	key := stmtKey{pool, query}
	if s, ok := db.stmts.Load(key); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := pool.PrepareContext(ctx, db.q(query))
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if prev, loaded := db.stmts.LoadOrStore(key, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

// closeStatements closes the prepared statements (on Close).
func (db *DB) closeStatements() {
	db.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		db.stmts.Delete(k)
		return true
	})
}
