package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
)

// BenchmarkStore_CommitPack measures one packer round's commit: 700
// segments (a second of replay uploads at the target rate) over 700
// sessions, as production sees them (one segment per session per round),
// and 737 (a round is whatever a second brought: the last statement's
// rows are not a full chunk). Reports segments/s.
func BenchmarkStore_CommitPack(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct{ d, perRound int }{{0, 700}, {0, 737}, {1, 700}, {1, 737}} {
		d, perRound := dialects[bc.d], bc.perRound
		b.Run(fmt.Sprintf("%s/%d", d.name, perRound), func(b *testing.B) {
			db, p := benchDB(b, d.dsn(b))
			var sessions []*veil.Session
			for range perRound {
				s := newSession(p.ID)
				if err := db.CreateSession(ctx, s); err != nil {
					b.Fatal(err)
				}
				sessions = append(sessions, s)
			}
			round := int64(0)
			now := time.Now()
			for b.Loop() {
				round++
				c := &veil.PackCommit{NodeID: "bench", LSN: uint64(round)}
				for i, s := range sessions {
					c.Segments = append(c.Segments, veil.PackedSegment{
						Segment: veil.Segment{ProjectID: p.ID, SessionID: s.ID, Seq: round, BlobKey: "p/x/packs/pk", Offset: int64(i) * 5000,
							Length: 5000, FirstTS: now, LastTS: now.Add(5 * time.Second), Events: 40},
						Meta: veil.SegmentMeta{URLPath: "/pricing", UserAgent: "Chrome", Pages: 1},
					})
				}
				if n, err := db.CommitPack(ctx, c); err != nil || n != perRound {
					b.Fatalf("CommitPack = %d, %v", n, err)
				}
			}
			b.ReportMetric(float64(b.N*perRound)/b.Elapsed().Seconds(), "segments/s")
		})
	}
}
