package events

import "time"

// Has reports whether the pair was recorded within the window, without
// recording it. Ingest checks with Has, makes the message durable, and only
// then calls Add: a message whose write failed must not look like a
// duplicate when the client retries it.
func (d *Dedup) Has(projectID, messageID string) bool {
	h := d.hash(projectID, messageID)
	sh := &d.shards[h>>(64-4)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cur := sh.rotate(d.bucket(d.now()))
	for k := int64(0); k < dedupSlots; k++ {
		if s := &sh.slots[slot(cur-k)]; s.set != nil && s.num == cur-k && s.set.has(h) {
			return true
		}
	}
	return false
}

// Window returns how long ids are remembered at least.
func (d *Dedup) Window() time.Duration { return time.Duration(d.width) * dedupBuckets }
