package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/store/storetest"
	"github.com/veil-privacy/veil/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopAll()
	os.Exit(code)
}

// dialects maps each dialect to a function returning the DSN of a fresh
// database.
var dialects = []struct {
	name string
	dsn  func(tb testing.TB) string
}{
	{store.SQLite, func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "veil.db") }},
	{store.Postgres, testenv.Postgres},
}

// MustOpen opens dsn and closes it when tb ends.
func MustOpen(tb testing.TB, dsn string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			storetest.RunSuite(t, func(t *testing.T) *store.DB {
				db := MustOpen(t, d.dsn(t))
				if db.Dialect() != d.name {
					t.Fatalf("Dialect() = %q, want %q", db.Dialect(), d.name)
				}
				return db
			})
		})
	}
}

// TestStore_MigrateTwoHandles migrates one database from two independent
// handles (as two processes would) at once.
func TestStore_MigrateTwoHandles(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			storetest.MigrateConcurrently(t, MustOpen(t, dsn), MustOpen(t, dsn))
		})
	}
}

func TestOpen_SQLiteURL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "veil.db")
	db := MustOpen(t, "sqlite://"+path)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not created at %s: %v", path, err)
	}
}

func TestOpen_Errors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dsn  string
		want []string // substrings of the one-line message
	}{
		{"Empty", "", []string{"no database configured", "--database"}},
		{"Scheme", "mysql://u:hunter2@h/db", []string{`unsupported scheme "mysql"`, "postgres://"}},
		{"DirUnderFile", filepath.Join(file, "veil.db"), []string{"cannot create directory", "writable --data"}},
		{"Memory", ":memory:", []string{"in-memory", "file path"}},
		{"PathIsDir", t.TempDir(), []string{"is a directory"}},
		{"PostgresUnreachable", "postgres://veil:hunter2@127.0.0.1:1/veil?sslmode=disable&connect_timeout=2",
			[]string{"connect postgres", "127.0.0.1:1", "is Postgres running"}},
		{"PostgresBadURL", "postgres://veil:hunter2@127.0.0.1:notaport/veil", []string{"invalid URL", "invalid port"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(context.Background(), tt.dsn)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Log(msg)
			if strings.Contains(msg, "hunter2") {
				t.Errorf("error leaks the password: %s", msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
}
