package events_test

import (
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/events"
)

// clock is a settable fake clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock        { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func TestDedup_Seen(t *testing.T) {
	c := newClock(t0)
	d := events.NewDedup(24*time.Hour, c.Now)
	if d.Seen("p1", "m1", c.Now()) {
		t.Fatal("first sight reported as seen")
	}
	if !d.Seen("p1", "m1", c.Now()) {
		t.Fatal("second sight not reported")
	}
	if d.Seen("p2", "m1", c.Now()) {
		t.Fatal("same messageId in another project reported as seen")
	}
	// Length-prefixed pair: ("p1m","1") is not ("p1","m1").
	if d.Seen("p1m", "1", c.Now()) {
		t.Fatal("ambiguous concatenation collided")
	}
	c.Advance(23*time.Hour + 59*time.Minute)
	if !d.Seen("p1", "m1", c.Now()) {
		t.Fatal("forgotten before the window ended")
	}
	// Forgotten somewhere between window and window + window/24.
	c.Advance(2 * time.Hour)
	if d.Seen("p1", "m1", c.Now()) {
		t.Fatal("still remembered after window + one bucket")
	}
	if d.Len() != 1 { // m1 again, just recorded
		t.Fatalf("Len = %d, want 1", d.Len())
	}
}

func TestDedup_Times(t *testing.T) {
	c := newClock(t0)
	d := events.NewDedup(0, c.Now) // default 24 h
	// An at older than the window is neither checked nor recorded.
	old := t0.Add(-25 * time.Hour)
	first, second := d.Seen("p", "old", old), d.Seen("p", "old", old)
	if first || second {
		t.Fatal("message older than the window reported as seen")
	}
	// An at in the future counts as now.
	if d.Seen("p", "future", t0.Add(48*time.Hour)) || !d.Seen("p", "future", t0) {
		t.Fatal("future at mishandled")
	}
	// The clock going back does not resurrect dropped buckets.
	c.Advance(-time.Hour)
	if !d.Seen("p", "future", c.Now()) {
		t.Fatal("clock going back lost an id")
	}
}

// TestDedup_LongRun runs a Dedup for 400 days with an id every 5 hours and
// idle gaps, past the point where 8-bit bucket tags wrap around.
func TestDedup_LongRun(t *testing.T) {
	c := newClock(t0)
	d := events.NewDedup(24*time.Hour, c.Now)
	last := ""
	for i := range 400 * 24 / 5 {
		id := "m" + strconv.Itoa(i%50) // ids come back after 250 h
		last = id
		if d.Seen("p", id, c.Now()) {
			t.Fatalf("step %d: id from 250 h ago reported as seen", i)
		}
		if !d.Seen("p", id, c.Now()) {
			t.Fatalf("step %d: id not remembered", i)
		}
		c.Advance(5 * time.Hour)
		if i%97 == 0 {
			c.Advance(300 * time.Hour) // idle for 12.5 days
		}
	}
	if !d.Has("p", last) {
		t.Fatal("the last id, 5 h old, was forgotten")
	}
}

// TestDedup_Restart rebuilds a Dedup from stored messages, as ingest does at
// start-up, and checks that retries are still caught.
func TestDedup_Restart(t *testing.T) {
	c := newClock(t0)
	type stored struct {
		id string
		at time.Time
	}
	var log []stored
	d := events.NewDedup(24*time.Hour, c.Now)
	for i := range 100 {
		id := "m" + strconv.Itoa(i)
		if !d.Seen("p", id, c.Now()) {
			log = append(log, stored{id, c.Now()})
		}
		c.Advance(20 * time.Minute) // 100 messages over 33 h
	}
	d2 := events.NewDedup(24*time.Hour, c.Now) // new process: new hash seed
	for _, s := range log {
		d2.Add("p", s.id, s.at)
	}
	for i, s := range log {
		inWindow := c.Now().Sub(s.at) < 24*time.Hour
		if got := d2.Seen("p", s.id, c.Now()); inWindow && !got {
			t.Fatalf("message %d (age %v) not caught after restart", i, c.Now().Sub(s.at))
		}
	}
}

func TestDedup_Concurrent(t *testing.T) {
	d := events.NewDedup(time.Hour, nil)
	var wg sync.WaitGroup
	var fresh atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5000 {
				// Every id is offered by all four goroutines.
				if !d.Seen("p", strconv.Itoa(i), time.Now()) {
					fresh.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if fresh.Load() != 5000 {
		t.Fatalf("%d ids recorded as new, want 5000", fresh.Load())
	}
}

// TestDedup_Memory measures the heap per remembered id.
func TestDedup_Memory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates ~25 MB")
	}
	const n = 1_000_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("node-next-%d", i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := newClock(t0)
	d := events.NewDedup(24*time.Hour, c.Now)
	for i, id := range ids {
		d.Seen("prj_1", id, c.Now())
		if i%(n/24) == 0 {
			c.Advance(time.Hour) // spread over the hourly buckets
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.1f bytes per id (%.1f MB per million)", per, per)
	if per > 40 {
		t.Errorf("%.1f bytes per id; want <= 40", per)
	}
	runtime.KeepAlive(d)
	runtime.KeepAlive(ids)
}

// BenchmarkDedupSeen checks new ids (the common case, which looks in every
// bucket) against 2 million ids spread over the 24 hourly buckets.
func BenchmarkDedupSeen(b *testing.B) {
	c := newClock(t0)
	d := events.NewDedup(24*time.Hour, c.Now)
	for h := range 24 {
		for i := range 2_000_000 / 24 {
			d.Add("prj_1", "pre-"+strconv.Itoa(h)+"-"+strconv.Itoa(i), c.Now())
		}
		c.Advance(time.Hour)
	}
	ids := make([]string, 1<<20)
	for i := range ids {
		ids[i] = fmt.Sprintf("node-next-1714557600%03d-2b6c0f0e-8d2a-4c61-9d2f-%012x", i%1000, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		d.Seen("prj_1", ids[i&(len(ids)-1)], c.Now())
		i++
	}
}

func BenchmarkDedupSeenParallel(b *testing.B) {
	d := events.NewDedup(24*time.Hour, nil)
	now := time.Now()
	var seq atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		base := seq.Add(1) << 32
		i := base
		for pb.Next() {
			d.Seen("prj_1", strconv.FormatInt(i, 36), now)
			i++
		}
	})
}
