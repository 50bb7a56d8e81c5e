package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestOpen_SQLitePragmas checks the pragmas every SQLite connection must
// run with, on both pools. synchronous must be FULL (2): with NORMAL a
// commit is durable only at the next checkpoint, and a power cut could
// lose a session key whose segment the log had already acknowledged.
func TestOpen_SQLitePragmas(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "veil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string]string{"busy_timeout": "10000", "journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "temp_store": "2"}
	for pool, p := range map[string]querier{"read": db.sql, "write": db.w} {
		for pragma, v := range want {
			var got string
			if err := p.QueryRowContext(context.Background(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != v {
				t.Errorf("%s pool: PRAGMA %s = %s, want %s", pool, pragma, got, v)
			}
		}
	}
	// The read pool refuses writes, so a write routed to it fails loudly.
	if _, err := db.sql.Exec("CREATE TABLE t (x)"); err == nil {
		t.Error("read pool accepted a write")
	}
}
