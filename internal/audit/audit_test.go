package audit_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/store"
)

// mustLog returns a Log over a fresh SQLite store with 5 entries, and a
// raw handle on the same database to tamper with.
func mustLog(t *testing.T) (*audit.Log, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "veil.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := &audit.Log{Store: db, Now: func() time.Time { clock = clock.Add(time.Second); return clock }}
	actx := audit.WithActor(ctx, audit.Actor{Kind: audit.ActorUser, ID: "usr_1", IP: "192.0.2.1"})
	for i, a := range []string{audit.ActionLoginSuccess, audit.ActionKeyCreate, audit.ActionReplayView, audit.ActionMemberRole, audit.ActionLogout} {
		e, err := l.Record(actx, audit.Entry{OrgID: "org_a", Action: a, ObjectKind: "thing", ObjectID: "id", Details: map[string]string{"n": string(rune('0' + i))}})
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != int64(i+1) || e.ActorID != "usr_1" || e.IP != "192.0.2.1" {
			t.Fatalf("entry = %+v", e)
		}
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return l, raw
}

func TestVerify_Intact(t *testing.T) {
	l, _ := mustLog(t)
	res, err := l.Verify(context.Background())
	if err != nil || !res.OK() || res.Entries != 5 || res.Head == audit.GenesisHash {
		t.Fatalf("Verify = %+v, %v", res, err)
	}
}

func TestVerify_Tamper(t *testing.T) {
	tests := []struct {
		name    string
		sql     []string
		wantSeq int64
		reason  string
	}{
		{"EditAction", []string{"UPDATE audit_log SET action = 'logout' WHERE seq = 3"}, 3, "edited"},
		{"EditActor", []string{"UPDATE audit_log SET actor_id = 'usr_2' WHERE seq = 2"}, 2, "edited"},
		{"EditDetails", []string{`UPDATE audit_log SET details = '{"n":"9"}' WHERE seq = 4`}, 4, "edited"},
		{"EditTime", []string{"UPDATE audit_log SET at = at + 1 WHERE seq = 1"}, 1, "edited"},
		{"EditAndRehash", []string{"UPDATE audit_log SET action = 'logout', hash = 'aa' WHERE seq = 2"}, 2, "edited"},
		{"DeleteMiddle", []string{"DELETE FROM audit_log WHERE seq = 3"}, 4, "deleted"},
		{"DeleteFirst", []string{"DELETE FROM audit_log WHERE seq = 1"}, 2, "deleted"},
		{"DeleteAndRenumber", []string{"DELETE FROM audit_log WHERE seq = 2", "UPDATE audit_log SET seq = seq - 1 WHERE seq > 2"}, 2, "reordered"},
		{"Reorder", []string{
			"UPDATE audit_log SET seq = 100 WHERE seq = 2",
			"UPDATE audit_log SET seq = 2 WHERE seq = 3",
			"UPDATE audit_log SET seq = 3 WHERE seq = 100"}, 2, "reordered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, raw := mustLog(t)
			for _, q := range tt.sql {
				if _, err := raw.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			res, err := l.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() || res.Broken.Seq != tt.wantSeq || !strings.Contains(res.Broken.Reason, tt.reason) {
				t.Fatalf("Verify = %+v broken %+v; want break at %d (%s)", res, res.Broken, tt.wantSeq, tt.reason)
			}
		})
	}
}

func TestRecord_Validation(t *testing.T) {
	l, _ := mustLog(t)
	long := strings.Repeat("x", 300)
	tests := []struct {
		name string
		e    audit.Entry
	}{
		{"NoAction", audit.Entry{}},
		{"BadAction", audit.Entry{Action: "Login Success"}},
		{"LongDetail", audit.Entry{Action: "x", Details: map[string]string{"body": long}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := l.Record(context.Background(), tt.e); veil.ErrorCode(err) != veil.EINVALID {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestRecord_Context(t *testing.T) {
	l, _ := mustLog(t)
	ctx := context.Background()
	if err := audit.Record(ctx, audit.Entry{Action: "replay.view"}); err != audit.ErrNoLog {
		t.Fatalf("Record without log = %v", err)
	}
	ctx = audit.NewContext(audit.WithActor(ctx, audit.Actor{Kind: audit.ActorToken, ID: "tok_1", IP: "::1"}), l)
	if err := audit.Record(ctx, audit.Entry{OrgID: "org_a", Action: audit.ActionDataExport, ObjectKind: "session", ObjectID: "s1"}); err != nil {
		t.Fatal(err)
	}
	var got *veil.AuditEntry
	l.Each(ctx, "org_a", func(e *veil.AuditEntry) error { got = e; return nil })
	if got.Action != audit.ActionDataExport || got.ActorKind != audit.ActorToken || got.ActorID != "tok_1" || got.Seq != 6 {
		t.Fatalf("last entry = %+v", got)
	}
}

// TestHash_Canonical pins the encoding: changing it would break every
// existing chain.
func TestHash_Canonical(t *testing.T) {
	e := &veil.AuditEntry{Seq: 1, ID: "aud_1", Time: time.Unix(1700000000, 0), OrgID: "org_a", ActorKind: "user",
		ActorID: "usr_1", Action: "login.success", IP: "192.0.2.1", Details: map[string]string{"b": "2", "a": "1"}, PrevHash: audit.GenesisHash}
	const want = "dfa0a80c31e957a80cc3aa0ce6c2406ecb9002dc7f9e910cd30b38620140455e"
	got := audit.Hash(e)
	if got != want {
		t.Fatalf("Hash = %s, want %s", got, want)
	}
	// Field boundaries are unambiguous: moving a byte between fields changes the hash.
	e2 := *e
	e2.OrgID, e2.ActorKind = "org_au", "ser"
	if audit.Hash(&e2) == got {
		t.Fatal("ambiguous encoding")
	}
}
