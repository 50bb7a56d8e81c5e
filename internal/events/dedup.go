package events

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"math/bits"
	"sync"
	"time"
)

// DefaultDedupWindow is how long Segment remembers a messageId.
const DefaultDedupWindow = 24 * time.Hour

const (
	dedupBuckets = 24               // time buckets per window (hourly for 24 h)
	dedupLive    = dedupBuckets + 1 // plus the one being filled
	dedupShards  = 16
	// A table is rebuilt without its expired entries when 4/5 full, or
	// when its oldest entry could be sweepAfter buckets old, before the
	// 8-bit bucket tags wrap around.
	sweepAfter = 200
)

// Dedup remembers (project, messageId) pairs for at least a window, so a
// message that a client retries is stored once.
//
// Each pair is kept as a 64-bit keyed hash (hash/maphash with a random
// per-process seed, so a client cannot aim collisions at other messages)
// tagged with its time bucket (window/24: hourly by default). The hashes
// live in open-addressing tables (16 shards, each with its own lock and
// table), so a lookup reads one run of slots, usually in one or two cache
// lines, whatever the window. An entry is live for 24 to 25 buckets after
// it was first recorded; expired entries are dropped when a table is
// rebuilt, which happens when it is 4/5 full (sized to be 2/3 full after)
// and at least every 200 buckets. Memory is 9 bytes per slot, 11–14 bytes
// per remembered id: 12.2 MB per million in TestDedup_Memory. A rebuild
// holds one shard's lock for a pass over its table (tens of ms per million
// ids in the shard); amortized it moves about 6 entries per insert.
//
// A false "seen" needs a 64-bit collision: with N ids in the window, the
// chance per new message is about N/2^64 (one in 2e11 for 100 million).
//
// The hashes are not persisted. After a restart ingest calls Add for each
// message it stored in the last window (messageId, receivedAt), and dedup
// carries on as before. Dedup is safe for concurrent use.
type Dedup struct {
	seed   maphash.Seed
	width  int64 // bucket width, ns
	now    func() time.Time
	shards [dedupShards]dedupShard
}

type dedupShard struct {
	mu    sync.Mutex
	cur   int64    // newest bucket number seen (never goes back)
	swept int64    // bucket number at the last rebuild
	hash  []uint64 // 0: empty slot (the hash 0 is stored as 1)
	tag   []uint8  // bucket number mod 256 of each entry
	used  int      // non-empty slots, live or expired
	_     [64]byte // keep shard locks on separate cache lines
}

// NewDedup returns a Dedup that remembers ids for at least window
// (DefaultDedupWindow if window <= 0). now is the clock (time.Now if nil).
func NewDedup(window time.Duration, now func() time.Time) *Dedup {
	if window <= 0 {
		window = DefaultDedupWindow
	}
	if now == nil {
		now = time.Now
	}
	d := &Dedup{seed: maphash.MakeSeed(), width: max(int64(window)/dedupBuckets, 1), now: now}
	for i := range d.shards {
		d.shards[i].cur = math.MinInt64
	}
	return d
}

// Seen reports whether messageID was already recorded for projectID within
// the window; if not, it records it as received at at. An at in the future
// counts as now; an at older than the window is neither checked nor
// recorded (Seen reports false).
//
// Ingest should rather call Has, make the message durable, then Add: a
// message whose write failed must not look like a duplicate on retry.
func (d *Dedup) Seen(projectID, messageID string, at time.Time) bool {
	return d.record(projectID, messageID, at, true)
}

// Add records messageID for projectID as received at at (unless it is
// already recorded, or at is older than the window). Ingest calls it once a
// message is durable, and at start-up for each message stored in the last
// window.
func (d *Dedup) Add(projectID, messageID string, at time.Time) {
	d.record(projectID, messageID, at, true)
}

// Has reports whether messageID was recorded for projectID within the
// window, without recording it.
func (d *Dedup) Has(projectID, messageID string) bool {
	return d.record(projectID, messageID, time.Time{}, false)
}

// Window returns how long ids are remembered at least.
func (d *Dedup) Window() time.Duration { return time.Duration(d.width * dedupBuckets) }

// Len returns the number of ids remembered. It reads every table.
func (d *Dedup) Len() int {
	cur := d.bucket(d.now())
	n := 0
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		c := sh.advance(cur)
		for j, h := range sh.hash {
			if h != 0 && sh.live(j, c) {
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

func (d *Dedup) bucket(t time.Time) int64 {
	ns := t.UnixNano()
	b := ns / d.width
	if ns < 0 && ns%d.width != 0 {
		b--
	}
	return b
}

func (d *Dedup) hash(projectID, messageID string) uint64 {
	var h maphash.Hash
	h.SetSeed(d.seed)
	var n [8]byte // length prefix: ("ab","c") and ("a","bc") differ
	binary.LittleEndian.PutUint64(n[:], uint64(len(projectID)))
	h.Write(n[:])
	h.WriteString(projectID)
	h.WriteString(messageID)
	return max(h.Sum64(), 1)
}

// record looks h up and, if add is set and it is absent, records it in the
// bucket of at. It reports whether h was found.
func (d *Dedup) record(projectID, messageID string, at time.Time, add bool) bool {
	h := d.hash(projectID, messageID)
	cur := d.bucket(d.now())
	sh := &d.shards[h%dedupShards] // the table uses the high bits
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cur = sh.advance(cur)
	b := cur
	if add {
		if b = min(d.bucket(at), cur); b <= cur-dedupLive {
			return false
		}
		if (sh.used+1)*5 > len(sh.hash)*4 {
			sh.rebuild(cur)
		}
	}
	i := sh.start(h)
	for sh.hash[i] != 0 {
		if sh.hash[i] == h && sh.live(i, cur) {
			return true
		}
		if i++; i == len(sh.hash) {
			i = 0
		}
	}
	if add {
		sh.hash[i], sh.tag[i] = h, uint8(b)
		sh.used++
	}
	return false
}

// advance moves the shard's clock to bucket cur (never back) and returns it.
func (sh *dedupShard) advance(cur int64) int64 {
	if cur <= sh.cur {
		return sh.cur
	}
	if sh.hash == nil || cur-sh.cur >= dedupLive {
		// New, or idle for a whole window: every entry has expired, and
		// tags could not tell their age.
		sh.swept = cur
		sh.alloc(64)
	} else if cur-sh.swept >= sweepAfter {
		sh.rebuild(cur)
	}
	sh.cur = cur
	return cur
}

// live reports whether the entry in slot i is within the window. Tags are
// bucket numbers mod 256, exact because advance never lets an entry get
// older than sweepAfter + 2*dedupLive < 256 buckets.
func (sh *dedupShard) live(i int, cur int64) bool {
	return uint8(cur)-sh.tag[i] < dedupLive
}

// start is the first slot to probe for h: multiply-shift maps the hash's
// high bits onto any table size.
func (sh *dedupShard) start(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(sh.hash)))
	return int(hi)
}

func (sh *dedupShard) alloc(n int) {
	sh.hash, sh.tag, sh.used = make([]uint64, n), make([]uint8, n), 0
}

// rebuild copies the live entries into a table sized to be 2/3 full.
func (sh *dedupShard) rebuild(cur int64) {
	oldHash, oldTag := sh.hash, sh.tag
	live := 0
	for i, h := range oldHash {
		if h != 0 && uint8(cur)-oldTag[i] < dedupLive {
			live++
		}
	}
	sh.alloc(max(64, (live+1)*3/2))
	sh.swept = cur
	for i, h := range oldHash {
		if h == 0 || uint8(cur)-oldTag[i] >= dedupLive {
			continue
		}
		j := sh.start(h)
		for sh.hash[j] != 0 {
			if j++; j == len(sh.hash) {
				j = 0
			}
		}
		sh.hash[j], sh.tag[j] = h, oldTag[i]
		sh.used++
	}
}
