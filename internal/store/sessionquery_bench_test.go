package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

// benchSessions is the project size of BenchmarkStore_FindSessionPage:
// 100,000 by default, VEIL_BENCH_SESSIONS=1000000 for the figure.
func benchSessions(b *testing.B) int {
	if v := os.Getenv("VEIL_BENCH_SESSIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5000 {
			b.Fatalf("VEIL_BENCH_SESSIONS=%q: want a number >= 5000", v)
		}
		return n
	}
	return 100_000
}

// BenchmarkStore_FindSessionPage measures the dashboard's session list on a
// project of 100,000 sessions (see benchSessions) spread over 30 days: first
// pages, a page 20 deep, each filter, the duration sort and the capped count
// the list shows; it reports p50 and p95 per query. VEIL_BENCH_EXPLAIN=1
// logs each page query's plan (Postgres: EXPLAIN ANALYZE).
func BenchmarkStore_FindSessionPage(b *testing.B) {
	ctx := context.Background()
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			db, p := benchDB(b, d.dsn(b))
			rng := rand.New(rand.NewPCG(1, 2))
			t0 := time.Now().Add(-30 * 24 * time.Hour)
			total := benchSessions(b)
			for done := 0; done < total; done += 5000 {
				ss := make([]*veil.Session, 5000)
				for i := range ss {
					first := t0.Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
					ss[i] = &veil.Session{ProjectID: p.ID, ID: fmt.Sprintf("ses_%07d", done+i), WrappedKey: make([]byte, 60),
						UserIndex: fmt.Sprintf("u%05d", rng.IntN(20000)), FirstSeen: first,
						LastSeen: first.Add(time.Duration(rng.Int64N(int64(time.Hour)))), URLPath: fmt.Sprintf("/p/%d", rng.IntN(50)),
						UserAgent: "Chrome", Events: 100, Segments: 4, Errors: int64(rng.IntN(20) / 19)}
				}
				if err := db.CreateSessions(ctx, ss); err != nil {
					b.Fatal(err)
				}
				// 1% of sessions saw the custom event "t-rare", 20% "t-common".
				pack := &veil.PackCommit{NodeID: "bench"}
				for i, s := range ss {
					var tags []string
					if i%100 == 0 {
						tags = append(tags, "t-rare")
					}
					if i%5 == 0 {
						tags = append(tags, "t-common")
					}
					if tags != nil {
						pack.Segments = append(pack.Segments, veil.PackedSegment{Segment: veil.Segment{ProjectID: p.ID, SessionID: s.ID,
							Seq: 1, BlobKey: "p/bench", Length: 1, FirstTS: s.FirstSeen, LastTS: s.LastSeen}, Meta: veil.SegmentMeta{Tags: tags}})
					}
				}
				if _, err := db.CommitPack(ctx, pack); err != nil {
					b.Fatal(err)
				}
			}
			queries := map[string]store.SessionQuery{
				"latest":     {},
				"user":       {UserIndex: "u00042"},
				"path":       {URLPath: "/p/7"},
				"errors":     {HasErrors: true},
				"last 1 day": {Since: time.Now().Add(-24 * time.Hour)},
				"min 50m":    {MinDur: 50 * time.Minute},
				"duration":   {Sort: "duration"},
				"rare event": {TagIndex: "t-rare"},
				"event":      {TagIndex: "t-common"},
			}
			for name, q := range queries {
				b.Run(name, func(b *testing.B) {
					q.ProjectID, q.Limit = p.ID, 50
					if os.Getenv("VEIL_BENCH_EXPLAIN") != "" {
						plan, err := db.ExplainSessionPage(ctx, q, true)
						if err != nil {
							b.Fatal(err)
						}
						b.Logf("plan of %q:\n%s", name, plan)
					}
					var lat []time.Duration
					for b.Loop() {
						start := time.Now()
						if _, err := db.FindSessionPage(ctx, q); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(start))
					}
					report(b, lat)
				})
			}
			for name, q := range map[string]store.SessionQuery{"count all": {}, "count errors": {HasErrors: true}, "count path": {URLPath: "/p/7"},
				"count rare event": {TagIndex: "t-rare"}} {
				b.Run(name, func(b *testing.B) {
					q.ProjectID = p.ID
					if os.Getenv("VEIL_BENCH_EXPLAIN") != "" {
						plan, err := db.ExplainCountSessions(ctx, q, 10_000, true)
						if err != nil {
							b.Fatal(err)
						}
						b.Logf("plan of %q:\n%s", name, plan)
					}
					var lat []time.Duration
					for b.Loop() {
						start := time.Now()
						if _, _, err := db.CountSessions(ctx, q, 10_000); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(start))
					}
					report(b, lat)
				})
			}
			b.Run("page 20", func(b *testing.B) {
				q := store.SessionQuery{ProjectID: p.ID, Limit: 50}
				for range 19 {
					pg, err := db.FindSessionPage(ctx, q)
					if err != nil {
						b.Fatal(err)
					}
					q.After = pg.Next
				}
				var lat []time.Duration
				for b.Loop() {
					start := time.Now()
					if _, err := db.FindSessionPage(ctx, q); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				report(b, lat)
			})
		})
	}
}

func report(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}
