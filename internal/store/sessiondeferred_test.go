package store_test

import (
	"context"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store/storetest"
)

// TestStore_CreateSessionDeferred: the deferred insert stores the session
// like CreateSession (a second one conflicts, another project's id is
// separate) and leaves the write connection committing synced (SQLite:
// synchronous=FULL for the next writer).
func TestStore_CreateSessionDeferred(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := MustOpen(t, d.dsn(t))
			ctx := context.Background()
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			org := storetest.MustCreateOrg(t, db, "o")
			p := storetest.MustCreateProject(t, db, org.ID, "p")
			q := storetest.MustCreateProject(t, db, org.ID, "q")
			if err := db.CreateSessionDeferred(ctx, &veil.Session{ProjectID: p.ID, ID: "ses_deferred", WrappedKey: []byte("wrapped-1")}); err != nil {
				t.Fatal(err)
			}
			got, err := db.FindSession(ctx, p.ID, "ses_deferred")
			if err != nil || string(got.WrappedKey) != "wrapped-1" {
				t.Fatalf("FindSession = %+v, %v", got, err)
			}
			err = db.CreateSessionDeferred(ctx, &veil.Session{ProjectID: p.ID, ID: "ses_deferred", WrappedKey: []byte("wrapped-2")})
			if veil.ErrorCode(err) != veil.ECONFLICT {
				t.Fatalf("second create: %v, want conflict", err)
			}
			if err := db.CreateSessionDeferred(ctx, &veil.Session{ProjectID: q.ID, ID: "ses_deferred", WrappedKey: []byte("w")}); err != nil {
				t.Fatalf("same id in another project: %v", err)
			}
			if d.name == "sqlite" {
				if got := db.WriteSynchronous(t); got != "2" {
					t.Errorf("write connection: PRAGMA synchronous = %s after deferred creates, want 2 (FULL)", got)
				}
			}
		})
	}
}

// TestStore_CommitPackRestore: CommitPack creates the sessions in Restore
// that are missing, keeps existing ones as they are, never brings back a
// deleted one and is not failed by one whose project was deleted since; segments of a restored session are indexed, those of the
// deleted one are not.
func TestStore_CommitPackRestore(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := MustOpen(t, d.dsn(t))
			ctx := context.Background()
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			org := storetest.MustCreateOrg(t, db, "o")
			p := storetest.MustCreateProject(t, db, org.ID, "p")
			for _, id := range []string{"ses_kept", "ses_deleted"} {
				if err := db.CreateSession(ctx, &veil.Session{ProjectID: p.ID, ID: id, WrappedKey: []byte("original")}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.ShredSession(ctx, p.ID, "ses_deleted", "request"); err != nil {
				t.Fatal(err)
			}
			gone := storetest.MustCreateProject(t, db, org.ID, "gone")
			if err := db.DeleteProject(ctx, org.ID, gone.ID); err != nil {
				t.Fatal(err)
			}
			seg := func(sid string) veil.PackedSegment {
				return veil.PackedSegment{Segment: veil.Segment{ProjectID: p.ID, SessionID: sid, Seq: 0, BlobKey: "p/" + p.ID + "/packs/pk_1", Length: 10, Events: 3}}
			}
			c := &veil.PackCommit{NodeID: "node-a", LSN: 4,
				Restore: []*veil.Session{
					{ProjectID: p.ID, ID: "ses_lost", WrappedKey: []byte("from-log")},
					{ProjectID: p.ID, ID: "ses_kept", WrappedKey: []byte("from-log")},
					{ProjectID: p.ID, ID: "ses_deleted", WrappedKey: []byte("from-log")},
					{ProjectID: gone.ID, ID: "ses_of_deleted_project", WrappedKey: []byte("from-log")},
				},
				Segments: []veil.PackedSegment{seg("ses_lost"), seg("ses_kept"), seg("ses_deleted")}}
			if _, err := db.CommitPack(ctx, c); err != nil {
				t.Fatal(err)
			}
			for id, want := range map[string]string{"ses_lost": "from-log", "ses_kept": "original"} {
				s, err := db.FindSession(ctx, p.ID, id)
				if err != nil || string(s.WrappedKey) != want {
					t.Errorf("%s: %+v, %v; want key %q", id, s, err, want)
					continue
				}
				if segs, err := db.ListSegments(ctx, p.ID, id); err != nil || len(segs) != 1 {
					t.Errorf("%s: segments %v, %v", id, segs, err)
				}
			}
			if _, err := db.FindSession(ctx, p.ID, "ses_deleted"); veil.ErrorCode(err) != veil.ENOTFOUND {
				t.Errorf("deleted session brought back: %v", err)
			}
		})
	}
}
