package wal_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/wal"
)

// BenchmarkAppend measures Append with real fdatasync on the test
// directory's disk: "parallel" has 32 callers per CPU sharing group
// commits, "sequential" one caller, so each op is one write+fdatasync.
// Besides ns/op and MB/s it reports records/s, records per fdatasync and
// the median and 99th percentile latency of one Append.
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{600, 60_000} {
		b.Run(fmt.Sprintf("size=%d/parallel", size), func(b *testing.B) {
			benchAppend(b, size, true)
		})
		b.Run(fmt.Sprintf("size=%d/sequential", size), func(b *testing.B) {
			benchAppend(b, size, false)
		})
	}
}

func benchAppend(b *testing.B, size int, parallel bool) {
	l, err := wal.Open(b.TempDir(), wal.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rec := payload(1, size)
	ctx := context.Background()
	var mu sync.Mutex
	var lat []time.Duration
	b.SetBytes(int64(size))
	b.ResetTimer()
	if parallel {
		b.SetParallelism(32)
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			for pb.Next() {
				start := time.Now()
				if _, err := l.Append(ctx, rec); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	} else {
		for b.Loop() {
			start := time.Now()
			if _, err := l.Append(ctx, rec); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
	}
	b.StopTimer()
	s := l.Stats()
	b.ReportMetric(float64(s.Records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(s.RecordsPerSync(), "records/sync")
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}

// BenchmarkReplayFollow follows a 64 MiB segment the way the packer does:
// 20,000 records of 3 KB, replayed in rounds of 100 from where the last
// round stopped. Without the resume hint each round re-reads the segment
// from its start.
func BenchmarkReplayFollow(b *testing.B) {
	l, err := wal.Open(b.TempDir(), wal.Options{Logger: quiet, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rec := payload(1, 3000)
	const records = 20_000
	for i := 0; i < records; i += 100 {
		batch := make([][]byte, 100)
		for j := range batch {
			batch[j] = rec
		}
		if _, err := l.Append(context.Background(), batch...); err != nil {
			b.Fatal(err)
		}
	}
	stop := fmt.Errorf("round full")
	b.SetBytes(records * 3000)
	for b.Loop() {
		next := wal.LSN(1)
		for next <= records {
			n := 0
			err := l.Replay(next, func(wal.LSN, []byte) error {
				if n == 100 {
					return stop
				}
				n++
				return nil
			})
			if err != nil && err != stop {
				b.Fatal(err)
			}
			next += wal.LSN(n)
		}
	}
}
