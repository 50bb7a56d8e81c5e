package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/store/storetest"
)

func TestStore_FindSessionPage(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := MustOpen(t, d.dsn(t))
			if _, err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			org := storetest.MustCreateOrg(t, db, "o")
			p := storetest.MustCreateProject(t, db, org.ID, "p")
			other := storetest.MustCreateProject(t, db, org.ID, "q")
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var ss []*veil.Session
			for i := 0; i < 25; i++ {
				s := &veil.Session{ProjectID: p.ID, ID: fmt.Sprintf("ses_%02d", i), WrappedKey: []byte("k"),
					FirstSeen: t0.Add(time.Duration(i) * time.Minute), LastSeen: t0.Add(time.Duration(i)*time.Minute + time.Duration(i%5)*time.Second),
					URLPath: []string{"/a", "/b"}[i%2], UserIndex: []string{"u1", "u2", "u3"}[i%3], Errors: int64(i % 4 / 3)}
				ss = append(ss, s)
			}
			ss = append(ss, &veil.Session{ProjectID: other.ID, ID: "ses_other", WrappedKey: []byte("k"), FirstSeen: t0, URLPath: "/a"})
			if err := db.CreateSessions(ctx, ss); err != nil {
				t.Fatal(err)
			}
			all := func(q store.SessionQuery) []string {
				t.Helper()
				var ids []string
				for n := 0; ; n++ {
					pg, err := db.FindSessionPage(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range pg.Sessions {
						ids = append(ids, s.ID)
					}
					if pg.Next == "" || n > 50 {
						return ids
					}
					q.After = pg.Next
				}
			}
			got := all(store.SessionQuery{ProjectID: p.ID, Limit: 4})
			if len(got) != 25 || got[0] != "ses_24" || got[24] != "ses_00" {
				t.Fatalf("time order: %v", got)
			}
			got = all(store.SessionQuery{ProjectID: p.ID, Limit: 3, Sort: "duration"})
			if len(got) != 25 || got[0] != "ses_04" || got[1] != "ses_09" {
				t.Fatalf("duration order: %v", got)
			}
			seen := map[string]bool{}
			for _, id := range got {
				if seen[id] {
					t.Fatalf("duplicate %s across pages: %v", id, got)
				}
				seen[id] = true
			}
			for _, tc := range []struct {
				name string
				q    store.SessionQuery
				want int
			}{
				{"user", store.SessionQuery{UserIndex: "u2"}, 8},
				{"path", store.SessionQuery{URLPath: "/a"}, 13},
				{"errors", store.SessionQuery{HasErrors: true}, 6},
				{"min duration", store.SessionQuery{MinDur: 3 * time.Second}, 10},
				{"max duration", store.SessionQuery{MaxDur: time.Second}, 10},
				{"range", store.SessionQuery{Since: t0.Add(10 * time.Minute), Until: t0.Add(20 * time.Minute)}, 10},
			} {
				tc.q.ProjectID, tc.q.Limit = p.ID, 2
				if n := len(all(tc.q)); n != tc.want {
					t.Errorf("%s: %d sessions, want %d", tc.name, n, tc.want)
				}
				if n, capped, err := db.CountSessions(ctx, tc.q, 100); err != nil || n != tc.want || capped {
					t.Errorf("%s: count %d capped %v (%v), want %d", tc.name, n, capped, err, tc.want)
				}
				if n, capped, err := db.CountSessions(ctx, tc.q, 5); err != nil || n != 5 || !capped {
					t.Errorf("%s: count capped at 5 = %d capped %v (%v)", tc.name, n, capped, err)
				}
			}
			// The custom event filter, read through session_tags (few
			// matches) and by probing it from the sessions (many).
			pack := &veil.PackCommit{NodeID: "n"}
			for i, s := range ss[:25] {
				tags := []string{"every"}
				if i%5 == 0 {
					tags = append(tags, "fifth")
				}
				pack.Segments = append(pack.Segments, veil.PackedSegment{Segment: veil.Segment{ProjectID: p.ID, SessionID: s.ID, Seq: 1,
					BlobKey: "p/x", Length: 1, FirstTS: s.FirstSeen, LastTS: s.LastSeen}, Meta: veil.SegmentMeta{Tags: tags}})
			}
			if _, err := db.CommitPack(ctx, pack); err != nil {
				t.Fatal(err)
			}
			for _, limit := range []int{5000, 3} {
				restore := store.SetTagDriveLimit(limit)
				for _, tc := range []struct {
					name  string
					q     store.SessionQuery
					want  int
					first string
				}{
					{"fifth", store.SessionQuery{TagIndex: "fifth"}, 5, "ses_20"},
					{"every", store.SessionQuery{TagIndex: "every"}, 25, "ses_24"},
					{"fifth by duration", store.SessionQuery{TagIndex: "fifth", Sort: "duration"}, 5, "ses_00"},
					{"every with errors", store.SessionQuery{TagIndex: "every", HasErrors: true}, 6, "ses_23"},
					{"fifth of user", store.SessionQuery{TagIndex: "fifth", UserIndex: "u1"}, 2, "ses_15"},
					{"every by duration", store.SessionQuery{TagIndex: "every", Sort: "duration"}, 25, "ses_04"},
					{"every on a path", store.SessionQuery{TagIndex: "every", URLPath: "/b"}, 12, "ses_23"},
					{"fifth since", store.SessionQuery{TagIndex: "fifth", Since: t0.Add(10 * time.Minute)}, 3, "ses_20"},
					{"none", store.SessionQuery{TagIndex: "none"}, 0, ""},
				} {
					tc.q.ProjectID, tc.q.Limit = p.ID, 2
					got := all(tc.q)
					if len(got) != tc.want || tc.want > 0 && got[0] != tc.first {
						t.Errorf("limit %d, %s: %v, want %d first %s", limit, tc.name, got, tc.want, tc.first)
					}
					if n, _, err := db.CountSessions(ctx, tc.q, 100); err != nil || n != tc.want {
						t.Errorf("limit %d, %s: count %d (%v), want %d", limit, tc.name, n, err, tc.want)
					}
				}
				restore()
			}
			// A session's activity moving on after its events were tagged
			// moves it in the event's time order too (session_tags keeps a
			// copy of last_seen: migration 0014).
			later := t0.Add(2 * time.Hour)
			if _, err := db.UpdateSession(ctx, p.ID, "ses_05", veil.SessionUpdate{LastSeen: &later}); err != nil {
				t.Fatal(err)
			}
			s10 := ss[10]
			if _, err := db.CommitPack(ctx, &veil.PackCommit{NodeID: "n", Segments: []veil.PackedSegment{{Segment: veil.Segment{ProjectID: p.ID,
				SessionID: s10.ID, Seq: 2, BlobKey: "p/y", Length: 1, FirstTS: s10.FirstSeen, LastTS: t0.Add(3 * time.Hour)},
				Meta: veil.SegmentMeta{Tags: []string{"fifth", "late"}}}}}); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				q    store.SessionQuery
				want string
			}{
				{store.SessionQuery{TagIndex: "fifth"}, "[ses_10 ses_05 ses_20 ses_15 ses_00]"},
				{store.SessionQuery{TagIndex: "late"}, "[ses_10]"},
				{store.SessionQuery{TagIndex: "every", Since: t0.Add(time.Hour)}, "[ses_10 ses_05]"},
			} {
				tc.q.ProjectID, tc.q.Limit = p.ID, 2
				if got := fmt.Sprint(all(tc.q)); got != tc.want {
					t.Errorf("after activity, %+v: %s, want %s", tc.q, got, tc.want)
				}
				if n, _, err := db.CountSessions(ctx, tc.q, 100); err != nil || n != len(strings.Fields(tc.want)) {
					t.Errorf("after activity, %+v: count %d (%v)", tc.q, n, err)
				}
			}
			if n, _, err := db.CountSessions(ctx, store.SessionQuery{ProjectID: other.ID}, 100); err != nil || n != 1 {
				t.Errorf("other project: count %d (%v), want 1", n, err)
			}
			if _, err := db.FindSessionPage(ctx, store.SessionQuery{ProjectID: p.ID, After: "!!"}); veil.ErrorCode(err) != veil.EINVALID {
				t.Errorf("bad cursor: %v", err)
			}
		})
	}
}

// TestStore_SessionPagePlan checks that the custom event filter sorted by
// time reads session_tags_recent in order (no sort step), on a first page
// and a later one, and on both databases.
func TestStore_SessionPagePlan(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := MustOpen(t, d.dsn(t))
			ctx := context.Background()
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			org := storetest.MustCreateOrg(t, db, "o")
			p := storetest.MustCreateProject(t, db, org.ID, "p")
			for _, q := range []store.SessionQuery{
				{ProjectID: p.ID, TagIndex: "rare", Limit: 50},
				{ProjectID: p.ID, TagIndex: "rare", Limit: 50, HasErrors: true, Since: time.Now().Add(-time.Hour)},
				{ProjectID: p.ID, TagIndex: "rare", Limit: 50, After: "MTc2NDk5MDAwMDAwMDAwMDpzZXNfMQ"},
			} {
				plan, err := db.ExplainSessionPage(ctx, q, false)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(plan, "session_tags_recent") || strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "Sort") {
					t.Errorf("%+v: plan does not read session_tags_recent in order:\n%s", q, plan)
				}
			}
		})
	}
}
