package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/blob"
)

// CompactResult says what one compaction run did.
type CompactResult struct {
	Rewritten int   `json:"packs_rewritten"`
	Deleted   int   `json:"packs_deleted"`
	Reclaimed int64 `json:"bytes_reclaimed"`
}

// LeaseCompact is the lease that makes compaction single-node.
const LeaseCompact = "lifecycle.compact"

// Compact removes the bytes of deleted segments from pack objects: a pack
// with no live segment left is deleted; any other is rewritten without its
// dead ranges under a new key, the index moved to it, and the old object
// deleted. It holds LeaseCompact for holder (ErrLeaseHeld when another node
// has it) and works through at most maxPacks packs (<= 0: all).
//
// Each step is safe to repeat after a crash: a pack stays listed as
// garbage until its old object is gone.
func (s *Service) Compact(ctx context.Context, holder string, maxPacks int) (*CompactResult, error) {
	res := &CompactResult{}
	err := s.withLease(ctx, LeaseCompact, holder, func() error {
		done := 0
		for maxPacks <= 0 || done < maxPacks {
			keys, err := s.Store.ListPackGarbage(ctx, s.batch())
			if err != nil {
				return err
			}
			if len(keys) == 0 {
				return nil
			}
			for _, key := range keys {
				if maxPacks > 0 && done >= maxPacks {
					return nil
				}
				if err := s.renewLease(ctx, LeaseCompact, holder); err != nil {
					return err
				}
				if err := s.compactPack(ctx, key, res); err != nil {
					return fmt.Errorf("compact %s: %w", key, err)
				}
				done++
			}
		}
		return nil
	})
	s.compacted(res, err)
	return res, err
}

func (s *Service) compacted(res *CompactResult, err error) {
	s.Metrics.outcome("compact", err)
	if err == nil {
		s.Metrics.reclaim(res.Reclaimed)
	}
}

// CompactPacks compacts the given packs now (those a deletion just turned
// into garbage) under the same lease as Compact, so a request need not
// wait for the whole backlog. A pack another run already compacted is a
// no-op.
func (s *Service) CompactPacks(ctx context.Context, holder string, keys []string) (*CompactResult, error) {
	res := &CompactResult{}
	err := s.withLease(ctx, LeaseCompact, holder, func() error {
		seen := map[string]bool{}
		for _, key := range keys {
			if seen[key] {
				continue
			}
			seen[key] = true
			if err := s.renewLease(ctx, LeaseCompact, holder); err != nil {
				return err
			}
			if err := s.compactPack(ctx, key, res); err != nil {
				return fmt.Errorf("compact %s: %w", key, err)
			}
		}
		return nil
	})
	s.compacted(res, err)
	return res, err
}

// Compaction states of an erasure (Certificate.Compaction).
const (
	CompactionDone    = "done"    // the sealed bytes left the pack objects before the certificate was written
	CompactionPending = "pending" // another node held the compaction lease, or it failed: the hourly job removes them
	CompactionNone    = "none"    // no replay bytes to remove
)

// compactNow compacts the packs a request's deletions left garbage and
// says how it went. A failure does not undo the deletion (the keys are
// gone); the hourly job retries.
func (s *Service) compactNow(ctx context.Context, holder string, packs []string) string {
	if len(packs) == 0 {
		return CompactionNone
	}
	_, err := s.CompactPacks(ctx, holder, packs)
	switch {
	case err == nil:
		return CompactionDone
	case errors.Is(err, ErrLeaseHeld):
		s.log().Info("compaction after erasure left to the node holding the lease", "packs", len(packs))
	default:
		s.log().Warn("compaction after erasure failed; the hourly job retries", "packs", len(packs), "err", err)
	}
	return CompactionPending
}

func (s *Service) compactPack(ctx context.Context, key string, res *CompactResult) error {
	live, err := s.Store.ListPackSegments(ctx, key)
	if err != nil {
		return err
	}
	_, err = s.rewritePack(ctx, key, live, nil, res)
	return err
}

// segmentFilter returns the bytes a segment keeps in the rewritten pack
// (sealed itself, or a re-encoding of it).
type segmentFilter func(sg *veil.Segment, sealed []byte) ([]byte, error)

// rewritePack writes the live segments of pack key (live, as
// ListPackSegments returned them), through filter when
// it is set, into a new pack, points the index at it and deletes the old
// object; a pack without live segments is deleted. It reports whether a
// new pack was written. With a filter that changes no segment and no dead
// bytes to drop, the pack stays as it is (and leaves the garbage list):
// rewriting it under a new key would only bring it round again. The
// caller holds LeaseCompact.
func (s *Service) rewritePack(ctx context.Context, key string, live []*veil.Segment, filter segmentFilter, res *CompactResult) (bool, error) {
	old, err := s.Blobs.Get(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		if len(live) > 0 {
			return false, fmt.Errorf("pack object is missing but %d segment(s) point at it", len(live))
		}
		return false, s.Store.ClearPackGarbage(ctx, key) // a previous run deleted it
	} else if err != nil {
		return false, err
	}
	rewritten := false
	if len(live) > 0 {
		var buf bytes.Buffer
		moves := make([]*veil.Segment, len(live))
		changed := false
		for i, sg := range live {
			if sg.Offset < 0 || sg.Offset+sg.Length > int64(len(old)) {
				return false, fmt.Errorf("segment %s/%d lies outside its pack", sg.SessionID, sg.Seq)
			}
			b := old[sg.Offset : sg.Offset+sg.Length]
			if filter != nil {
				in := b
				if b, err = filter(sg, b); err != nil {
					return false, err
				}
				changed = changed || !sameBytes(in, b)
			}
			m := *sg
			m.Offset, m.Length = int64(buf.Len()), int64(len(b))
			buf.Write(b)
			moves[i] = &m
		}
		if filter != nil && !changed && buf.Len() == len(old) {
			return false, s.Store.ClearPackGarbage(ctx, key)
		}
		newKey := path.Dir(key) + "/" + veil.NewID("pk")
		if err := s.Blobs.Put(ctx, newKey, buf.Bytes()); err != nil {
			return false, err
		}
		if err := s.Store.MoveSegments(ctx, key, newKey, live[0].ProjectID, moves); err != nil {
			s.Blobs.Delete(context.WithoutCancel(ctx), newKey)
			return false, err
		}
		rewritten = true
		res.Rewritten++
		res.Reclaimed += int64(len(old) - buf.Len())
	} else {
		res.Deleted++
		res.Reclaimed += int64(len(old))
	}
	if err := s.Blobs.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return rewritten, err
	}
	return rewritten, s.Store.ClearPackGarbage(ctx, key)
}

// sameBytes reports whether a filter handed back the very slice it was given.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
