package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
)

// BenchmarkStore_CommitPackNewSessions measures a packer commit in which
// every one of 700 segments is its session's first, so each one writes
// session.started in the commit: with no webhook endpoint (one endpoint
// query per commit) and with one endpoint subscribed (a session read and
// an outbox row per session). Reports segments/s.
func BenchmarkStore_CommitPackNewSessions(b *testing.B) {
	ctx := context.Background()
	const perRound = 700
	for _, d := range dialects {
		for _, subscribed := range []bool{false, true} {
			name := d.name + "/no-endpoint"
			if subscribed {
				name = d.name + "/subscribed"
			}
			b.Run(name, func(b *testing.B) {
				db, p := benchDB(b, d.dsn(b))
				if subscribed {
					ep := &veil.WebhookEndpoint{ProjectID: p.ID, URL: "https://hooks.example/in", EventTypes: []string{"session.started"},
						Enabled: true, SealedSecret: []byte("sealed")}
					if err := db.CreateWebhookEndpoint(ctx, ep); err != nil {
						b.Fatal(err)
					}
				}
				now := time.Now()
				round := uint64(0)
				for b.Loop() {
					b.StopTimer()
					round++
					var ss []*veil.Session
					for range perRound {
						s := newSession(p.ID)
						s.Segments, s.Events = 0, 0
						ss = append(ss, s)
					}
					if err := db.CreateSessions(ctx, ss); err != nil {
						b.Fatal(err)
					}
					c := &veil.PackCommit{NodeID: "bench", LSN: round}
					for i, s := range ss {
						c.Segments = append(c.Segments, veil.PackedSegment{
							Segment: veil.Segment{ProjectID: p.ID, SessionID: s.ID, Seq: 0, BlobKey: "p/x/packs/pk", Offset: int64(i) * 5000,
								Length: 5000, FirstTS: now, LastTS: now.Add(5 * time.Second), Events: 40},
							Meta: veil.SegmentMeta{URLPath: "/pricing", UserAgent: "Chrome"},
						})
					}
					b.StartTimer()
					if n, err := db.CommitPack(ctx, c); err != nil || n != perRound {
						b.Fatalf("CommitPack = %d, %v", n, err)
					}
				}
				b.ReportMetric(float64(b.N*perRound)/b.Elapsed().Seconds(), "segments/s")
			})
		}
	}
}
