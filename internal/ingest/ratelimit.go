package ingest

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a set of token buckets keyed by write key or client IP. The
// map is bounded: idle buckets are dropped, and when full, new keys share
// one overflow bucket rather than growing memory without limit.
type limiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	max     int
	buckets map[string]*bucket
	over    *rate.Limiter
	lastGC  time.Time
	now     func() time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

// newLimiter returns a limiter of perSecond requests with the given burst,
// or nil (no limit) when perSecond <= 0.
func newLimiter(perSecond float64, burst, maxKeys int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = int(math.Max(1, perSecond))
	}
	return &limiter{
		rate: rate.Limit(perSecond), burst: burst, max: maxKeys,
		buckets: map[string]*bucket{}, over: rate.NewLimiter(rate.Limit(perSecond), burst), now: time.Now,
	}
}

// allow takes one token for key; when none is left it returns how long
// until one is.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	if now.Sub(l.lastGC) > time.Minute {
		l.gc(now)
	}
	b, ok := l.buckets[key]
	var lim *rate.Limiter
	switch {
	case ok:
		b.seen = now
		lim = b.l
	case len(l.buckets) >= l.max:
		lim = l.over
	default:
		lim = rate.NewLimiter(l.rate, l.burst)
		l.buckets[key] = &bucket{l: lim, seen: now}
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// gc drops buckets idle long enough to have refilled completely.
func (l *limiter) gc(now time.Time) {
	l.lastGC = now
	idle := time.Duration(float64(l.burst)/float64(l.rate)*float64(time.Second)) + time.Minute
	for k, b := range l.buckets {
		if now.Sub(b.seen) > idle {
			delete(l.buckets, k)
		}
	}
}
