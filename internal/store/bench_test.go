package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/store/storetest"
)

func benchDB(b *testing.B, dsn string) (*store.DB, *veil.Project) {
	db := MustOpen(b, dsn)
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	org := storetest.MustCreateOrg(b, db, "bench")
	return db, storetest.MustCreateProject(b, db, org.ID, "bench")
}

func newSession(projectID string) *veil.Session {
	return &veil.Session{ProjectID: projectID, WrappedKey: make([]byte, 60), UserIndex: "bidx",
		FirstSeen: time.Now(), URLPath: "/pricing", UserAgent: "Chrome", Events: 12, Segments: 1}
}

// BenchmarkStore_CreateSession measures single-row inserts, each its own
// transaction (the ingest path for a new session).
func BenchmarkStore_CreateSession(b *testing.B) {
	ctx := context.Background()
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			db, p := benchDB(b, d.dsn(b))
			for b.Loop() {
				if err := db.CreateSession(ctx, newSession(p.ID)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
		})
		b.Run(d.name+"/parallel", func(b *testing.B) {
			db, p := benchDB(b, d.dsn(b))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := db.CreateSession(ctx, newSession(p.ID)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
		})
	}
}

// BenchmarkStore_CreateSessions measures batched inserts of 100 sessions
// per transaction; ns/op is per session.
func BenchmarkStore_CreateSessions(b *testing.B) {
	const batch = 100
	ctx := context.Background()
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			db, p := benchDB(b, d.dsn(b))
			n := 0
			for b.Loop() {
				if n%batch == 0 {
					ss := make([]*veil.Session, batch)
					for i := range ss {
						ss[i] = newSession(p.ID)
					}
					if err := db.CreateSessions(ctx, ss); err != nil {
						b.Fatal(err)
					}
				}
				n++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
		})
	}
}
