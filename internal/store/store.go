// Package store is Veil's metadata store: orgs, projects, write keys, users,
// sessions, event batch indexes and leases, persisted through database/sql on
// either SQLite (modernc.org/sqlite, pure Go; the embedded default) or
// Postgres (pgx). One type, *DB, implements Repository on both; the few
// dialect differences (placeholders, time encoding, error codes, migration
// locking) live in dialect.go and migrate.go.
//
// Payloads never reach this package: sessions and events are sealed blobs,
// and SQL only holds their metadata and wrapped keys.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Dialect names returned by DB.Dialect.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DB is a Repository over a SQLite file or a Postgres database.
type DB struct {
	sql     *sql.DB // reads (and everything on Postgres)
	w       *sql.DB // writes; on SQLite a single connection, see openSQLite
	dialect string
	name    string   // DSN with any password redacted, for error messages
	stmts   sync.Map // query → *sql.Stmt, see prepared

	keyHooks keyHooks // see OnKeysChanged
	packSQL  packSQL  // CommitPack's statement texts, built once (see packStatements)

	// Now returns the current time; tests replace it. Times are stored in
	// UTC, truncated to microseconds.
	Now func() time.Time
}

var _ Repository = (*DB)(nil)

// Open connects to dsn and checks that the database is reachable. dsn is a
// postgres:// or postgresql:// URL, a SQLite file path, or sqlite:///path.
// The SQLite file and its directory are created if missing. Open does not
// migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	dsn = strings.TrimSpace(dsn)
	switch {
	case dsn == "":
		return nil, errors.New("open database: no database configured; pass --database (a postgres:// URL or a SQLite file path)")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//"))
	case strings.Contains(dsn, "://"):
		scheme, _, _ := strings.Cut(dsn, "://")
		return nil, fmt.Errorf("open database: unsupported scheme %q; use a postgres:// URL or a SQLite file path", scheme)
	}
	return openSQLite(ctx, dsn)
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		// Each pooled connection would get its own private database.
		return nil, fmt.Errorf("open sqlite %q: in-memory and file: URIs are not supported; give a file path such as DATA/veil.db", path)
	}
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open sqlite %q: invalid file path; give a plain file path such as DATA/veil.db", path)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite %s: cannot create directory %s (%w); choose a writable --data directory", path, dir, unwrapPathErr(err))
	}
	if err := checkWritable(path); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w; choose a writable --data directory or fix its permissions", path, err)
	}
	// busy_timeout must come first: journal_mode(WAL) needs a lock, and
	// without a timeout a concurrent opener would fail at once with
	// SQLITE_BUSY (pocketbase core/db_connect.go). _txlock=immediate makes
	// every BeginTx a BEGIN IMMEDIATE, so read-then-write transactions take
	// the write lock up front instead of failing to upgrade later.
	// synchronous(FULL): every commit is fsynced before it returns. NORMAL
	// (durable only at the next checkpoint) could lose, on a power cut,
	// the packer's index of records the log has since trimmed; FULL costs
	// ~0.14 ms per commit here (one packer round a second, dashboard
	// writes). Ingest's new session rows are the exception, written under
	// NORMAL: see CreateSessionDeferred.
	// temp_store(MEMORY) keeps statement journals (written by every
	// UPDATE inside a transaction, e.g. the packer's session counters) and
	// temporary b-trees in memory instead of in temp files: a pwrite per
	// page otherwise, a quarter of a packer round's CPU.
	base := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	// SQLite has one writer at a time. Writers in this process queue for
	// the single write connection in Go instead of sleeping in SQLite's
	// busy handler (pocketbase does the same with its "nonconcurrent" pool);
	// busy_timeout still covers other processes. Reads use their own pool,
	// marked query_only so a misrouted write fails loudly.
	w, err := sql.Open("sqlite", base)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	if err := w.PingContext(ctx); err != nil { // creates the file and sets WAL
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w; is it a SQLite database on a writable local disk?", path, err)
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// Keep read connections open: database/sql keeps only 2 idle ones by
	// default, and reopening a SQLite connection (file, pragmas, statement
	// preparation) under concurrent ingest costs more than the query.
	nr := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(nr)
	r.SetMaxIdleConns(nr)
	w.SetMaxIdleConns(1)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{sql: r, w: w, dialect: SQLite, name: path, Now: time.Now}, nil
}

// checkWritable reports a readable error when the SQLite file cannot be
// created or written, which SQLite itself only reports as "unable to open
// database file".
func checkWritable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return errors.New("path is a directory, not a database file")
	case err == nil:
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("database file is not writable (%w)", unwrapPathErr(err))
		}
		return f.Close()
	case errors.Is(err, os.ErrNotExist):
		f, err := os.CreateTemp(filepath.Dir(path), ".veil-probe-*")
		if err != nil {
			return fmt.Errorf("directory %s is not writable (%w)", filepath.Dir(path), unwrapPathErr(err))
		}
		f.Close()
		return os.Remove(f.Name())
	default:
		return fmt.Errorf("cannot stat database file (%w)", unwrapPathErr(err))
	}
}

// unwrapPathErr drops the *PathError wrapper, whose path the caller's
// message already names.
func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	name, secret := redactDSN(dsn)
	// sql.Open does not parse the URL; parse it here so a typo is reported
	// as such and not as an unreachable server.
	if _, err := pgx.ParseConfig(dsn); err != nil {
		return nil, fmt.Errorf("open postgres: invalid URL: %w; fix the --database URL", redactErr(err, secret))
	}
	sdb, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w; check the --database URL", name, redactErr(err, secret))
	}
	// A bounded pool that keeps its connections (the default keeps 2 idle).
	sdb.SetMaxOpenConns(20)
	sdb.SetMaxIdleConns(10)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{sql: sdb, w: sdb, dialect: Postgres, name: name, Now: time.Now}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := sdb.PingContext(pctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("connect postgres %s: %w; is Postgres running and reachable, and are the URL's user, password and database right?",
			name, redactErr(err, secret))
	}
	return db, nil
}

// redactDSN returns dsn with the password replaced by "xxxxx", and the
// password itself so it can be scrubbed from driver errors.
func redactDSN(dsn string) (name, secret string) {
	u, err := url.Parse(dsn)
	if err != nil {
		// Unparseable: keep only the scheme so nothing secret leaks.
		scheme, _, _ := strings.Cut(dsn, "://")
		return scheme + "://(unparseable URL)", ""
	}
	if u.User != nil {
		secret, _ = u.User.Password()
	}
	if p := u.Query().Get("password"); p != "" {
		secret = p
	}
	return u.Redacted(), secret
}

// redactErr scrubs secret from err's message. The returned error still
// unwraps to err, so errors.Is/As keep working.
func redactErr(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{err: err, msg: strings.ReplaceAll(err.Error(), secret, "xxxxx")}
}

type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Dialect returns SQLite ("sqlite") or Postgres ("postgres").
func (db *DB) Dialect() string { return db.dialect }

// Ping checks that the database is reachable.
func (db *DB) Ping(ctx context.Context) error {
	for _, p := range []*sql.DB{db.sql, db.w} {
		if err := p.PingContext(ctx); err != nil {
			return fmt.Errorf("ping %s %s: %w", db.dialect, db.name, err)
		}
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	db.closeStatements()
	err := db.sql.Close()
	if db.w != db.sql {
		err = errors.Join(err, db.w.Close())
	}
	return err
}

// now returns db.Now in the stored precision.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }
