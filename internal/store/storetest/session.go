package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

func testSession(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	org := MustCreateOrg(t, db, "acme")
	web, api := MustCreateProject(t, db, org.ID, "web"), MustCreateProject(t, db, org.ID, "api")
	s1 := MustCreateSession(t, db, web.ID)
	if !strings.HasPrefix(s1.ID, "ses_") || !s1.FirstSeen.Equal(now(clk)) || !s1.LastSeen.Equal(s1.FirstSeen) {
		t.Fatalf("created session = %+v; want ses_ id, first and last seen now", s1)
	}
	full := veil.Session{
		ProjectID: web.ID, ID: "client-chosen-id", WrappedKey: []byte{9, 8, 7}, UserIndex: "bidx:abc",
		FirstSeen: Epoch.Add(-time.Hour), LastSeen: Epoch.Add(-time.Minute), URLPath: "/pricing",
		UserAgent: "Chrome", Events: 5, Segments: 2, Errors: 1,
	}

	t.Run("Create", func(t *testing.T) {
		tests := []struct {
			name string
			s    veil.Session
			want string
		}{
			{"OK", full, ""},
			{"OKSameIDOtherProject", veil.Session{ProjectID: api.ID, ID: "client-chosen-id"}, ""},
			{"ErrProjectRequired", veil.Session{ID: "x"}, veil.EINVALID},
			{"ErrProjectNotFound", veil.Session{ProjectID: "prj_missing"}, veil.ENOTFOUND},
			{"ErrDuplicate", veil.Session{ProjectID: web.ID, ID: s1.ID}, veil.ECONFLICT},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := tt.s
				wantCode(t, db.CreateSession(ctx, &s), tt.want)
				if tt.want != "" {
					return
				}
				got, err := db.FindSession(ctx, s.ProjectID, s.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(&s, got, equateEmpty); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("CreateSessions", func(t *testing.T) {
		batch := []*veil.Session{{ProjectID: api.ID, ID: "b1"}, {ProjectID: api.ID, ID: "b2"}}
		wantCode(t, db.CreateSessions(ctx, batch), "")
		// All or nothing: b3 must not survive b1's conflict.
		bad := []*veil.Session{{ProjectID: api.ID, ID: "b3"}, {ProjectID: api.ID, ID: "b1"}}
		wantCode(t, db.CreateSessions(ctx, bad), veil.ECONFLICT)
		_, err := db.FindSession(ctx, api.ID, "b3")
		wantCode(t, err, veil.ENOTFOUND)
		wantCode(t, db.CreateSessions(ctx, nil), "")
	})

	t.Run("Find", func(t *testing.T) {
		tests := []struct {
			name, projectID, id, want string
		}{
			{"OK", web.ID, s1.ID, ""},
			{"ErrNotFound", web.ID, "ses_missing", veil.ENOTFOUND},
			{"ErrOtherProject", api.ID, s1.ID, veil.ENOTFOUND}, // tenant scoping
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.FindSession(ctx, tt.projectID, tt.id)
				wantCode(t, err, tt.want)
				if err == nil {
					if diff := cmp.Diff(s1, got); diff != "" {
						t.Fatalf("(-want +got):\n%s", diff)
					}
				}
			})
		}
	})

	t.Run("List", func(t *testing.T) {
		tests := []struct {
			name      string
			projectID string
			limit     int
			want      []string
		}{
			{"MostRecentFirst", web.ID, 0, []string{s1.ID, "client-chosen-id"}},
			{"Limit", web.ID, 1, []string{s1.ID}},
			{"ErrOtherProjectEmpty", "prj_missing", 10, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ss, err := db.ListSessions(ctx, tt.projectID, tt.limit)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, s := range ss {
					got = append(got, s.ID)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := MustCreateSession(t, db, web.ID)
		wantCode(t, db.DeleteSession(ctx, api.ID, s.ID), veil.ENOTFOUND) // tenant scoping
		wantCode(t, db.DeleteSession(ctx, web.ID, s.ID), "")
		wantCode(t, db.DeleteSession(ctx, web.ID, s.ID), veil.ENOTFOUND)
		_, err := db.FindSession(ctx, web.ID, s.ID)
		wantCode(t, err, veil.ENOTFOUND)
	})
}

func testUpdateSession(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	org := MustCreateOrg(t, db, "acme")
	web, api := MustCreateProject(t, db, org.ID, "web"), MustCreateProject(t, db, org.ID, "api")
	s := MustCreateSession(t, db, web.ID)
	later, earlier := s.LastSeen.Add(90*time.Second+1500*time.Nanosecond), s.LastSeen.Add(-time.Hour)
	path := "/checkout"

	tests := []struct {
		name      string
		projectID string
		upd       veil.SessionUpdate
		want      string
		check     func(got *veil.Session) bool
	}{
		{"Counters", web.ID, veil.SessionUpdate{AddEvents: 10, AddSegments: 1, AddErrors: 2},
			"", func(g *veil.Session) bool {
				return g.Events == 10 && g.Segments == 1 && g.Errors == 2 && g.LastSeen.Equal(s.LastSeen)
			}},
		{"LastSeenForward", web.ID, veil.SessionUpdate{AddEvents: 1, LastSeen: &later, URLPath: &path},
			"", func(g *veil.Session) bool {
				return g.Events == 11 && g.LastSeen.Equal(later.UTC().Truncate(time.Microsecond)) && g.URLPath == path
			}},
		{"LastSeenNeverBackwards", web.ID, veil.SessionUpdate{LastSeen: &earlier},
			"", func(g *veil.Session) bool {
				return g.LastSeen.Equal(later.UTC().Truncate(time.Microsecond)) && g.URLPath == path
			}},
		{"ErrOtherProject", api.ID, veil.SessionUpdate{AddEvents: 1}, veil.ENOTFOUND, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.UpdateSession(ctx, tt.projectID, s.ID, tt.upd)
			wantCode(t, err, tt.want)
			if err != nil {
				return
			}
			if !tt.check(got) {
				t.Fatalf("updated session = %+v", got)
			}
			if found, _ := db.FindSession(ctx, web.ID, s.ID); !cmp.Equal(found, got) {
				t.Fatalf("UpdateSession returned %+v, stored %+v", got, found)
			}
		})
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := db.UpdateSession(ctx, web.ID, "ses_missing", veil.SessionUpdate{AddEvents: 1})
		wantCode(t, err, veil.ENOTFOUND)
	})
	t.Run("Concurrent", func(t *testing.T) {
		c := MustCreateSession(t, db, web.ID)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for j := range 10 {
					if _, err := db.UpdateSession(ctx, web.ID, c.ID, veil.SessionUpdate{AddEvents: 1}); err != nil {
						t.Errorf("update %d/%d: %v", i, j, err)
					}
				}
			})
		}
		wg.Wait()
		got, err := db.FindSession(ctx, web.ID, c.ID)
		if err != nil || got.Events != 80 {
			t.Fatalf("events after 80 concurrent +1 = %v (%v), want 80", got, err)
		}
	})
}

func testEventBatch(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	org := MustCreateOrg(t, db, "acme")
	web, api := MustCreateProject(t, db, org.ID, "web"), MustCreateProject(t, db, org.ID, "api")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	mk := func(projectID string, from, to int) veil.EventBatch {
		return veil.EventBatch{ProjectID: projectID, BlobKey: fmt.Sprintf("ev/%d-%d", from, to),
			Count: 100, MinTime: at(from), MaxTime: at(to), Bytes: 4096}
	}

	t.Run("Create", func(t *testing.T) {
		tests := []struct {
			name string
			b    veil.EventBatch
			want string
		}{
			{"OK0010", mk(web.ID, 0, 10), ""},
			{"OK1020", mk(web.ID, 10, 20), ""},
			{"OK3040", mk(web.ID, 30, 40), ""},
			{"OKOtherProject", mk(api.ID, 0, 60), ""},
			{"ErrProjectNotFound", mk("prj_missing", 0, 1), veil.ENOTFOUND},
			{"ErrBlobKeyRequired", veil.EventBatch{ProjectID: web.ID}, veil.EINVALID},
			{"ErrTimes", mk(web.ID, 5, 1), veil.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b := tt.b
				wantCode(t, db.CreateEventBatch(ctx, &b), tt.want)
				if tt.want == "" && (!strings.HasPrefix(b.ID, "evb_") || !b.CreatedAt.Equal(now(clk))) {
					t.Fatalf("created batch = %+v", b)
				}
			})
		}
	})

	t.Run("List", func(t *testing.T) {
		tests := []struct {
			name         string
			projectID    string
			since, until time.Time
			want         []string
		}{
			{"All", web.ID, time.Time{}, time.Time{}, []string{"ev/0-10", "ev/10-20", "ev/30-40"}},
			{"Overlap", web.ID, at(15), at(31), []string{"ev/10-20", "ev/30-40"}},
			{"UntilExclusive", web.ID, at(0), at(10), []string{"ev/0-10"}},
			{"SinceInclusive", web.ID, at(20), time.Time{}, []string{"ev/10-20", "ev/30-40"}},
			{"Gap", web.ID, at(21), at(29), nil},
			{"OtherProject", api.ID, at(15), at(16), []string{"ev/0-60"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				bs, err := db.ListEventBatches(ctx, tt.projectID, tt.since, tt.until)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, b := range bs {
					got = append(got, b.BlobKey)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	})
}
