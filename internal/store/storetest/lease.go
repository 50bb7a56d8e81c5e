package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

func testLease(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	const ttl = time.Minute
	steps := []struct {
		name    string
		release bool
		holder  string
		advance time.Duration // before the step
		want    bool
	}{
		{name: "AcquireFree", holder: "a", want: true},
		{name: "OtherHolderBlocked", holder: "b", want: false},
		{name: "RenewBySameHolder", holder: "a", advance: 50 * time.Second, want: true},
		{name: "StillBlockedAfterRenew", holder: "b", advance: 50 * time.Second, want: false},
		{name: "TakeOverAfterExpiry", holder: "b", advance: ttl, want: true},
		{name: "OldHolderBlocked", holder: "a", want: false},
		{name: "ReleaseByNonHolderIsNoop", release: true, holder: "a"},
		{name: "StillHeld", holder: "c", want: false},
		{name: "Release", release: true, holder: "b"},
		{name: "AcquireAfterRelease", holder: "c", want: true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.Advance(st.advance)
			if st.release {
				wantCode(t, db.ReleaseLease(ctx, "janitor", st.holder), "")
				return
			}
			got, err := db.AcquireLease(ctx, "janitor", st.holder, ttl)
			if err != nil || got != st.want {
				t.Fatalf("AcquireLease(%s) = %v, %v; want %v", st.holder, got, err, st.want)
			}
		})
	}
	t.Run("IndependentNames", func(t *testing.T) {
		if ok, err := db.AcquireLease(ctx, "webhooks", "a", ttl); err != nil || !ok {
			t.Fatalf("AcquireLease(webhooks) = %v, %v", ok, err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := db.AcquireLease(ctx, "x", "a", 0)
		wantCode(t, err, veil.EINVALID)
	})
}

// testCascade checks that deleting a parent removes its children.
func testCascade(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	org := MustCreateOrg(t, db, "acme")
	user := MustCreateUser(t, db, "alice@example.com")
	if err := db.CreateMembership(ctx, &veil.Membership{OrgID: org.ID, UserID: user.ID, Role: veil.RoleOwner}); err != nil {
		t.Fatal(err)
	}
	web, api := MustCreateProject(t, db, org.ID, "web"), MustCreateProject(t, db, org.ID, "api")
	for _, p := range []*veil.Project{web, api} {
		MustCreateKey(t, db, p.ID, "veil_wk_"+p.Name)
		MustCreateSession(t, db, p.ID)
		b := &veil.EventBatch{ProjectID: p.ID, BlobKey: "b/" + p.Name, MinTime: Epoch, MaxTime: Epoch}
		if err := db.CreateEventBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	counts := func(p *veil.Project) [3]int {
		ks, err1 := db.ListKeys(ctx, p.ID)
		ss, err2 := db.ListSessions(ctx, p.ID, 0)
		bs, err3 := db.ListEventBatches(ctx, p.ID, time.Time{}, time.Time{})
		for _, err := range []error{err1, err2, err3} {
			if err != nil {
				t.Fatal(err)
			}
		}
		return [3]int{len(ks), len(ss), len(bs)}
	}

	t.Run("Project", func(t *testing.T) {
		wantCode(t, db.DeleteProject(ctx, org.ID, web.ID), "")
		if diff := cmp.Diff([3]int{0, 0, 0}, counts(web)); diff != "" {
			t.Fatalf("keys, sessions, batches left (-want +got):\n%s", diff)
		}
		_, err := db.FindKeyByPrefix(ctx, "veil_wk_web")
		wantCode(t, err, veil.ENOTFOUND)
		if diff := cmp.Diff([3]int{1, 1, 1}, counts(api)); diff != "" {
			t.Fatalf("sibling project lost rows (-want +got):\n%s", diff)
		}
	})
	t.Run("Org", func(t *testing.T) {
		wantCode(t, db.DeleteOrg(ctx, org.ID), "")
		_, err := db.FindProjectByID(ctx, api.ID)
		wantCode(t, err, veil.ENOTFOUND)
		if diff := cmp.Diff([3]int{0, 0, 0}, counts(api)); diff != "" {
			t.Fatalf("keys, sessions, batches left (-want +got):\n%s", diff)
		}
		_, err = db.FindMembership(ctx, org.ID, user.ID)
		wantCode(t, err, veil.ENOTFOUND)
		if _, err := db.FindUserByID(ctx, user.ID); err != nil {
			t.Fatalf("user must survive its org: %v", err)
		}
	})
}

// testTimeRoundTrip checks that times come back exactly, in UTC, truncated
// to microseconds, across the whole range Veil can meet.
func testTimeRoundTrip(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	p := MustCreateProject(t, db, MustCreateOrg(t, db, "acme").ID, "web")
	tests := []struct {
		name string
		t    time.Time
	}{
		{"Nanos", time.Date(2026, 2, 3, 4, 5, 6, 123456789, time.UTC)},
		{"Zone", time.Date(2026, 7, 1, 23, 30, 0, 999, time.FixedZone("IST", 5*3600+1800))},
		{"BeforeEpoch", time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{"Epoch", time.Unix(0, 0)},
		{"FarFuture", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{"Ancient", time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.t.UTC().Truncate(time.Microsecond)
			s := &veil.Session{ProjectID: p.ID, FirstSeen: tt.t, LastSeen: tt.t}
			if err := db.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
			got, err := db.FindSession(ctx, p.ID, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range []time.Time{got.FirstSeen, got.LastSeen, s.FirstSeen} {
				if g != want { // == on purpose: same instant, location and monotonic-free
					t.Fatalf("round trip of %v = %v, want %v", tt.t, g, want)
				}
			}
		})
	}
}
