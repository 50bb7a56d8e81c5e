package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/veil-privacy/veil"
)

// DefaultKeyTTL bounds how long a write key read from the store is used
// from memory. Changes made through this process's store (revocation from
// the dashboard or the API, new origins) apply to the next request: the
// store tells the cache (see store.DB.OnKeysChanged). Changes made by
// another process or node (`veil key revoke`, a dashboard on another node
// sharing Postgres) apply within this bound. Without the cache, every
// request read its key from the store: about 5 % of the server's CPU per
// replay upload, through database/sql (docs/performance.md).
const DefaultKeyTTL = time.Second

// maxCachedKeys bounds the cache; only keys found in the store enter it.
const maxCachedKeys = 10_000

// writeKeys is the cache of write keys by prefix. It holds store records,
// not verdicts: the secret is verified against the hash, the revocation
// time and origins are checked on every request.
type writeKeys struct {
	store Store
	ttl   time.Duration // ≤ 0: no cache
	now   func() time.Time

	mu  sync.RWMutex
	m   map[string]cachedKey
	gen uint64 // bumped by forget: a lookup begun before does not fill the cache
}

type cachedKey struct {
	k  *veil.WriteKey // shared, never modified
	at time.Time      // when it was read (before the query began)
}

func newWriteKeys(st Store, ttl time.Duration, now func() time.Time) *writeKeys {
	c := &writeKeys{store: st, ttl: ttl, now: now, m: map[string]cachedKey{}}
	// The metadata store tells this process's key changes (store.DB does).
	if n, ok := st.(interface{ OnKeysChanged(func()) }); ok && ttl > 0 {
		n.OnKeysChanged(c.forget)
	}
	return c
}

// find returns the write key with prefix, from memory when it was read
// less than ttl ago.
func (c *writeKeys) find(ctx context.Context, prefix string) (*veil.WriteKey, error) {
	if c.ttl <= 0 {
		return c.store.FindKeyByPrefix(ctx, prefix)
	}
	now := c.now()
	c.mu.RLock()
	e, ok := c.m[prefix]
	gen := c.gen
	c.mu.RUnlock()
	if age := now.Sub(e.at); ok && age >= 0 && age < c.ttl {
		return e.k, nil
	}
	k, err := c.store.FindKeyByPrefix(ctx, prefix)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.m) >= maxCachedKeys {
			clear(c.m)
		}
		c.m[prefix] = cachedKey{k: k, at: now}
	}
	c.mu.Unlock()
	return k, nil
}

// forget drops every cached key (a key changed in this process).
func (c *writeKeys) forget() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.mu.Unlock()
}
