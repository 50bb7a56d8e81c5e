package ingest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/settings"
)

// fakeSettings counts lookups; rules change when version does.
type fakeSettings struct {
	version       atomic.Int64
	gets, lookups atomic.Int64
	subs          []func(string)
}

func (f *fakeSettings) Get(ctx context.Context, projectID string) (*settings.Settings, error) {
	f.gets.Add(1)
	return &settings.Settings{Version: f.version.Load(), SDK: veil.DefaultSDKSettings(),
		Rules: scrub.Rules{CustomRules: []scrub.CustomRule{{Name: "emp", Pattern: `EMP-\d+`}}}}, nil
}

func (f *fakeSettings) Version(ctx context.Context, projectID string) (int64, error) {
	f.lookups.Add(1)
	return f.version.Load(), nil
}

func (f *fakeSettings) OnChange(fn func(string)) { f.subs = append(f.subs, fn) }

// TestScrubberCache: compiled once (both scrubbers); within the TTL no store access; after
// it one version lookup, and a recompile only when the version changed;
// an invalidation recompiles at once.
func TestScrubberCache(t *testing.T) {
	f := &fakeSettings{}
	now := time.Unix(1000, 0)
	c := newScrubbers(f, time.Second, func() time.Time { return now })
	ctx := context.Background()
	s1, _ := c.get(ctx, "p")
	s2, _ := c.get(ctx, "p")
	if s1 != s2 || f.gets.Load() != 1 || f.lookups.Load() != 0 {
		t.Fatalf("within TTL: same=%v gets=%d versions=%d", s1 == s2, f.gets.Load(), f.lookups.Load())
	}
	now = now.Add(2 * time.Second)
	if s3, _ := c.get(ctx, "p"); s3.s != s1.s || s3.replay != s1.replay || f.gets.Load() != 1 || f.lookups.Load() != 1 {
		t.Fatalf("after TTL, same version: gets=%d versions=%d", f.gets.Load(), f.lookups.Load())
	}
	f.version.Store(1)
	now = now.Add(2 * time.Second)
	if s4, _ := c.get(ctx, "p"); s4.s == s1.s || s4.replay == s1.replay || f.gets.Load() != 2 {
		t.Fatalf("after TTL, new version: recompiled=%v gets=%d", s4.s != s1.s, f.gets.Load())
	}
	for _, fn := range f.subs {
		fn("p")
	}
	if c.get(ctx, "p"); f.gets.Load() != 3 {
		t.Fatalf("after invalidation: gets=%d", f.gets.Load())
	}
}

// BenchmarkScrubberLookup is the per-request cost of finding a project's
// compiled scrubber (cache hit within the TTL).
func BenchmarkScrubberLookup(b *testing.B) {
	c := newScrubbers(&fakeSettings{}, time.Hour, time.Now)
	ctx := context.Background()
	c.get(ctx, "p")
	b.ReportAllocs()
	for b.Loop() {
		c.get(ctx, "p")
	}
}
