package ingest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/settings"
)

// Settings is where ingest reads projects' stored privacy settings
// (*settings.Service).
type Settings interface {
	Get(ctx context.Context, projectID string) (*settings.Settings, error)
	Version(ctx context.Context, projectID string) (int64, error)
	OnChange(f func(projectID string))
}

// DefaultRulesTTL is how long a compiled project scrubber is used before
// its settings version is checked again. Changes saved through this
// process apply to the next request at once (OnChange); changes saved by
// another node or by the CLI apply within the TTL.
const DefaultRulesTTL = 5 * time.Second

// scrubbers compiles each project's scrubber once and caches it. An entry
// is trusted for ttl; after that one primary-key lookup of the settings
// version decides whether to recompile.
type scrubbers struct {
	src Settings
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	m     map[string]*scrubEntry
	epoch uint64 // bumped by every invalidation
}

type scrubEntry struct {
	s *scrub.Scrubber
	// replay scrubs replay segments: the project's rules without
	// settings.BaseSafeFields. Those name a field of Segment messages
	// (context.veil.sessionId); in rrweb events no such field is Veil's,
	// and a dotted safe field makes the rrweb walk check every key
	// against it (about twice the CPU per segment).
	replay  *scrub.Scrubber
	version int64
	checked time.Time
}

func newScrubbers(src Settings, ttl time.Duration, now func() time.Time) *scrubbers {
	if ttl <= 0 {
		ttl = DefaultRulesTTL
	}
	c := &scrubbers{src: src, ttl: ttl, now: now, m: map[string]*scrubEntry{}}
	src.OnChange(c.invalidate)
	return c
}

func (c *scrubbers) invalidate(projectID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, projectID)
	c.epoch++
}

// get returns the scrubber of a project's current rules. A store error is
// returned (the request fails with 500/503) rather than falling back to
// rules that may be weaker than the project's.
func (c *scrubbers) get(ctx context.Context, projectID string) (*scrubEntry, error) {
	now := c.now()
	c.mu.Lock()
	e, epoch := c.m[projectID], c.epoch
	c.mu.Unlock()
	if e != nil && now.Sub(e.checked) < c.ttl {
		return e, nil
	}
	if e != nil {
		v, err := c.src.Version(ctx, projectID)
		if err != nil {
			return nil, fmt.Errorf("check scrub rules of project %s: %w", projectID, err)
		}
		if v == e.version {
			e = &scrubEntry{s: e.s, replay: e.replay, version: v, checked: now}
			c.put(projectID, e, epoch)
			return e, nil
		}
	}
	st, err := c.src.Get(ctx, projectID)
	if err != nil {
		return nil, fmt.Errorf("load scrub rules of project %s: %w", projectID, err)
	}
	s, err := scrub.New(settings.Effective(st.Rules))
	if err != nil {
		return nil, fmt.Errorf("compile scrub rules of project %s: %w", projectID, err)
	}
	r, err := scrub.New(settings.EffectiveFor(st.Rules, "rrweb"))
	if err != nil {
		return nil, fmt.Errorf("compile scrub rules of project %s: %w", projectID, err)
	}
	e = &scrubEntry{s: s, replay: r, version: st.Version, checked: now}
	c.put(projectID, e, epoch)
	return e, nil
}

// put stores e unless an invalidation happened since epoch was read (the
// entry may predate the change; the next request loads again).
func (c *scrubbers) put(projectID string, e *scrubEntry, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch == epoch {
		c.m[projectID] = e
	}
}

// scrubber returns the scrubber for a project: its stored rules when
// Options.Settings is set, else Options.Scrubber.
func (h *Handler) scrubber(ctx context.Context, p *project) (*scrub.Scrubber, error) {
	if h.rules == nil {
		return h.opts.Scrubber, nil
	}
	e, err := h.rules.get(ctx, p.id)
	if err != nil {
		return nil, err
	}
	return e.s, nil
}

// replayScrubber is scrubber for replay segments (see scrubEntry.replay).
func (h *Handler) replayScrubber(ctx context.Context, p *project) (*scrub.Scrubber, error) {
	if h.rules == nil {
		if h.opts.ReplayScrubber != nil {
			return h.opts.ReplayScrubber, nil
		}
		return h.opts.Scrubber, nil
	}
	e, err := h.rules.get(ctx, p.id)
	if err != nil {
		return nil, err
	}
	return e.replay, nil
}
