package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

// Migrations are plain .sql files per dialect, applied in lexical order,
// each in its own transaction, and recorded by name in schema_migrations.
// They are forward-only: to change the schema, add a file; never edit one
// that has shipped. A file must not contain its own BEGIN/COMMIT.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// pgMigrateLockKey is the pg_advisory_lock key that serialises migrations
// of one database. Advisory locks are per database, so other databases on
// the same cluster do not contend.
const pgMigrateLockKey int64 = 0x7665696c6d6967 // "veilmig"

func (db *DB) migrationNames() ([]string, error) {
	names, err := fs.Glob(migrationFS, "migrations/"+db.dialect+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	for i, n := range names {
		names[i] = path.Base(n)
	}
	sort.Strings(names)
	return names, nil
}

func (db *DB) createMigrationsTable() string {
	typ := "INTEGER"
	if db.dialect == Postgres {
		typ = "TIMESTAMPTZ"
	}
	return "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at " + typ + " NOT NULL)"
}

// Migrate applies the migrations not yet recorded and returns their names.
// It is safe to run from several goroutines or processes at once: each
// migration is applied exactly once, and callers that lose the race return
// without applying anything. On Postgres a session advisory lock
// serialises migrators; on SQLite each migration's check-and-apply runs in
// a BEGIN IMMEDIATE transaction, which holds the database's write lock
// from its first statement.
func (db *DB) Migrate(ctx context.Context) (applied []string, err error) {
	names, err := db.migrationNames()
	if err != nil {
		return nil, err
	}
	if db.dialect == Postgres {
		applied, err = db.migratePostgres(ctx, names)
	} else {
		applied, err = db.migrateSQLite(ctx, names)
	}
	if err != nil {
		return applied, fmt.Errorf("migrate %s %s: %w", db.dialect, db.name, err)
	}
	return applied, nil
}

func (db *DB) migrateSQLite(ctx context.Context, names []string) ([]string, error) {
	var applied []string
	for _, name := range names {
		var did bool
		err := db.withTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, db.createMigrationsTable()); err != nil {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
			var err error
			did, err = db.applyOnce(ctx, tx, name)
			return err
		})
		if err != nil {
			return applied, err
		}
		if did {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

func (db *DB) migratePostgres(ctx context.Context, names []string) (applied []string, err error) {
	// The advisory lock belongs to a session, so lock, migrate and unlock
	// on one dedicated connection.
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("get connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", pgMigrateLockKey); err != nil {
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		uctx := context.WithoutCancel(ctx)
		if _, uerr := conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", pgMigrateLockKey); uerr != nil {
			// Never return a connection that still holds the lock to the
			// pool: marking it bad makes database/sql close it, which
			// releases the lock server-side.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	if _, err := conn.ExecContext(ctx, db.createMigrationsTable()); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, name := range names {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return applied, fmt.Errorf("begin: %w", err)
		}
		did, err := db.applyOnce(ctx, tx, name)
		if err == nil {
			err = tx.Commit()
		}
		if err != nil {
			tx.Rollback()
			return applied, err
		}
		if did {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

// applyOnce applies migration name in tx unless it is already recorded.
func (db *DB) applyOnce(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	var n int
	if err := db.queryRow(ctx, tx, "SELECT COUNT(*) FROM schema_migrations WHERE name = ?", name).Scan(&n); err != nil {
		return false, fmt.Errorf("read schema_migrations: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	body, err := migrationFS.ReadFile("migrations/" + db.dialect + "/" + name)
	if err != nil {
		return false, fmt.Errorf("read migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return false, fmt.Errorf("apply migration %s: %w", name, err)
	}
	if _, err := db.exec(ctx, tx, "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", name, db.ts(db.now())); err != nil {
		return false, fmt.Errorf("record migration %s: %w", name, err)
	}
	return true, nil
}

// Pending returns the names of migrations not yet applied, in the order
// Migrate would apply them. It changes nothing.
func (db *DB) Pending(ctx context.Context) ([]string, error) {
	names, err := db.migrationNames()
	if err != nil {
		return nil, err
	}
	exists := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
	if db.dialect == Postgres {
		exists = "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'"
	}
	var n int
	if err := db.sql.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return nil, fmt.Errorf("pending migrations %s: %w", db.name, err)
	}
	if n == 0 {
		return names, nil
	}
	rows, err := db.sql.QueryContext(ctx, "SELECT name FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("pending migrations %s: %w", db.name, err)
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("pending migrations %s: %w", db.name, err)
		}
		done[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending migrations %s: %w", db.name, err)
	}
	var pending []string
	for _, name := range names {
		if !done[name] {
			pending = append(pending, name)
		}
	}
	return pending, nil
}
