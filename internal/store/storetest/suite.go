// Package storetest is the conformance suite for store.DB: every dialect
// must pass RunSuite with the same results (restic backend/test.Suite,
// litestream RunWithReplicaClient). It also exports MustX helpers for
// other packages' tests.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

// RunSuite runs the conformance suite. open must return a handle to a
// fresh, empty, unmigrated database and close it when t ends.
func RunSuite(t *testing.T, open func(t *testing.T) *store.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) *store.DB)
	}{
		{"Migrate", testMigrate},
		{"Org", testOrg},
		{"Project", testProject},
		{"RewrapProjectKeys", testRewrap},
		{"Key", testKey},
		{"User", testUser},
		{"Membership", testMembership},
		{"Session", testSession},
		{"UpdateSession", testUpdateSession},
		{"EventBatch", testEventBatch},
		{"Lease", testLease},
		{"Webhook", testWebhook},
		{"CommitPack", testCommitPack},
		{"CommitPackBatched", testCommitPackBatched},
		{"CommitPackChunks", testCommitPackChunks},
		{"Lifecycle", testLifecycle},
		{"Recompress", testRecompress},
		{"VacuumInto", testVacuumInto},
		{"Cascade", testCascade},
		{"TimeRoundTrip", testTimeRoundTrip},
		{"ProjectSettings", testProjectSettings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
}

// Clock is a settable clock for DB.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Epoch is the fake clock's start. It has nanoseconds and a non-UTC zone
// on purpose: stored times must come back in UTC, truncated to µs.
var Epoch = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

// MustOpen opens a database with open, migrates it and sets a fake clock
// starting at Epoch.
func MustOpen(t *testing.T, open func(t *testing.T) *store.DB) (*store.DB, *Clock) {
	t.Helper()
	db := open(t)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk := &Clock{t: Epoch}
	db.Now = clk.Now
	return db, clk
}

// MustCreateOrg creates an org named name.
func MustCreateOrg(tb testing.TB, db store.Repository, name string) *veil.Org {
	tb.Helper()
	o := &veil.Org{Name: name}
	if err := db.CreateOrg(context.Background(), o); err != nil {
		tb.Fatalf("create org %q: %v", name, err)
	}
	return o
}

// MustCreateProject creates a project named name in orgID.
func MustCreateProject(tb testing.TB, db store.Repository, orgID, name string) *veil.Project {
	tb.Helper()
	p := &veil.Project{OrgID: orgID, Name: name, WrappedKey: []byte("wrapped:" + name)}
	if err := db.CreateProject(context.Background(), p); err != nil {
		tb.Fatalf("create project %q: %v", name, err)
	}
	return p
}

// MustCreateKey creates a browser key with prefix in projectID.
func MustCreateKey(tb testing.TB, db store.Repository, projectID, prefix string) *veil.WriteKey {
	tb.Helper()
	k := &veil.WriteKey{ProjectID: projectID, Kind: veil.KeyBrowser, Prefix: prefix, Hash: []byte("hash:" + prefix)}
	if err := db.CreateKey(context.Background(), k); err != nil {
		tb.Fatalf("create key %q: %v", prefix, err)
	}
	return k
}

// MustCreateUser creates a user with email.
func MustCreateUser(tb testing.TB, db store.Repository, email string) *veil.User {
	tb.Helper()
	u := &veil.User{Email: email, PasswordHash: "$argon2id$test"}
	if err := db.CreateUser(context.Background(), u); err != nil {
		tb.Fatalf("create user %q: %v", email, err)
	}
	return u
}

// MustCreateSession creates a session in projectID.
func MustCreateSession(tb testing.TB, db store.Repository, projectID string) *veil.Session {
	tb.Helper()
	s := &veil.Session{ProjectID: projectID, WrappedKey: []byte("sk"), URLPath: "/", UserAgent: "Firefox"}
	if err := db.CreateSession(context.Background(), s); err != nil {
		tb.Fatalf("create session: %v", err)
	}
	return s
}

// MigrateConcurrently runs Migrate from several goroutines on each of dbs
// (handles to the same fresh database) at once and checks that all succeed
// and every migration is applied exactly once.
func MigrateConcurrently(t *testing.T, dbs ...*store.DB) {
	t.Helper()
	ctx := context.Background()
	want, err := dbs[0].Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const perHandle = 4
	var (
		mu      sync.Mutex
		applied []string
		wg      sync.WaitGroup
	)
	start := make(chan struct{})
	for _, db := range dbs {
		for range perHandle {
			wg.Go(func() {
				<-start
				names, err := db.Migrate(ctx)
				if err != nil {
					t.Errorf("concurrent Migrate: %v", err)
				}
				mu.Lock()
				applied = append(applied, names...)
				mu.Unlock()
			})
		}
	}
	close(start)
	wg.Wait()
	if diff := cmp.Diff(want, applied, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("applied across all migrators (-want +got):\n%s", diff)
	}
	for _, db := range dbs {
		if p, err := db.Pending(ctx); err != nil || len(p) != 0 {
			t.Errorf("Pending after migrate = %v, %v; want none", p, err)
		}
	}
}

// wantCode fails t unless err carries the veil error code want ("" = nil).
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := veil.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (err %v), want %q", got, err, want)
	}
}

// now is what the DB stores for the clock's current time.
func now(c *Clock) time.Time { return c.Now().UTC().Truncate(time.Microsecond) }

var equateEmpty = cmpopts.EquateEmpty()
