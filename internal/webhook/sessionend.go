package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// LeaseSessionEnder is the lease that keeps the session-ended job on one
// node at a time.
const LeaseSessionEnder = "webhook.session-ended"

// DefaultIdleTimeout is how long a session may go without a stored segment
// before it is ended (the SDK starts a new session after 30 idle minutes
// too).
const DefaultIdleTimeout = 30 * time.Minute

// SessionStore is what the session-ended job needs (store.DB implements
// it).
type SessionStore interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
	// EndIdleSessions closes up to limit open sessions with no segment
	// stored after idleBefore, writing session.ended for each in the same
	// transaction; a session is closed once whoever calls it.
	EndIdleSessions(ctx context.Context, idleBefore time.Time, limit int) (int, error)
}

// SessionEnder is the job that ends idle sessions: every Interval, the
// node holding LeaseSessionEnder closes the sessions idle for Idle and
// queues their session.ended events. Every node may run one; the lease
// (and the store's conditional update) make each session end once.
type SessionEnder struct {
	Store  SessionStore
	Holder string        // unique per process
	Idle   time.Duration // default DefaultIdleTimeout
	// Interval between runs (default Idle/4 within [1 s, 1 min]); Batch
	// sessions per transaction (default 200).
	Interval time.Duration
	Batch    int
	Now      func() time.Time // default time.Now; tests use a fake clock
	Logger   *slog.Logger
	Ended    prometheus.Counter // nil: not counted
}

// ErrLeaseHeld reports that another node is running the job now.
var ErrLeaseHeld = errors.New("another node holds the session-ended lease")

func (j *SessionEnder) defaults() {
	if j.Idle <= 0 {
		j.Idle = DefaultIdleTimeout
	}
	if j.Interval <= 0 {
		// A quarter of the timeout, within [1 s, 1 min]: sessions end at
		// most a quarter late.
		j.Interval = min(max(j.Idle/4, time.Second), time.Minute)
	}
	if j.Batch <= 0 {
		j.Batch = 200
	}
	if j.Now == nil {
		j.Now = time.Now
	}
	if j.Logger == nil {
		j.Logger = slog.Default()
	}
}

// NewSessionsEndedCounter registers veil_sessions_ended_total on reg.
func NewSessionsEndedCounter(reg prometheus.Registerer) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "veil_sessions_ended_total",
		Help: "Sessions closed by the idle timeout (each queues session.ended)."})
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}

// RunOnce takes the lease and ends every session idle at Now, in batches;
// it returns how many it ended, or ErrLeaseHeld.
func (j *SessionEnder) RunOnce(ctx context.Context) (int, error) {
	j.defaults()
	ttl := 2*j.Interval + time.Minute
	ok, err := j.Store.AcquireLease(ctx, LeaseSessionEnder, j.Holder, ttl)
	if err != nil {
		return 0, fmt.Errorf("session-ended job: %w", err)
	}
	if !ok {
		return 0, ErrLeaseHeld
	}
	// The lease is kept (not released) until it expires, so that the
	// node that ran keeps running: fewer handovers, same guarantees.
	total := 0
	cutoff := j.Now().Add(-j.Idle)
	for ctx.Err() == nil {
		n, err := j.Store.EndIdleSessions(ctx, cutoff, j.Batch)
		if err != nil {
			return total, fmt.Errorf("session-ended job: %w", err)
		}
		total += n
		if j.Ended != nil {
			j.Ended.Add(float64(n))
		}
		if n < j.Batch {
			break
		}
		// Renew between batches; a lost lease stops this node (ending is
		// idempotent anyway, the lease only avoids duplicate work).
		if ok, err := j.Store.AcquireLease(ctx, LeaseSessionEnder, j.Holder, ttl); err != nil {
			return total, fmt.Errorf("session-ended job: %w", err)
		} else if !ok {
			return total, ErrLeaseHeld
		}
	}
	return total, nil
}

// Run runs the job every Interval until ctx ends.
func (j *SessionEnder) Run(ctx context.Context) {
	j.defaults()
	t := time.NewTicker(j.Interval)
	defer t.Stop()
	for {
		n, err := j.RunOnce(ctx)
		switch {
		case errors.Is(err, ErrLeaseHeld) || ctx.Err() != nil:
		case err != nil:
			j.Logger.Warn("ending idle sessions failed; will retry", "err", err)
		case n > 0:
			j.Logger.Debug("ended idle sessions", "sessions", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
