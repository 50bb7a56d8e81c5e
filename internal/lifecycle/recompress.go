package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/keyring"
)

// DefaultRecompressAfter is how old a pack must be before recompression
// rewrites it: long enough that the player of a session just recorded
// reads the fast S2 segments, short enough that the larger S2 bytes do
// not sit on disk (or in a backup) for long.
const DefaultRecompressAfter = time.Hour

// RecompressResult says what one recompression run did.
type RecompressResult struct {
	Packs       int   `json:"packs_rewritten"`
	Segments    int   `json:"segments_recompressed"`
	BytesBefore int64 `json:"bytes_before"` // of the segments recompressed
	BytesAfter  int64 `json:"bytes_after"`
	More        bool  `json:"more"` // stopped at maxPacks with packs left
}

// Recompress rewrites the packs written at least olderThan ago whose
// segments were sealed with S2 at ingest (cheap to write, about 40 %
// larger) with each S2 segment re-sealed with zstd under the same
// session key and binding, checked by opening it again before it
// replaces the original. Every project's packs are gone through once, in
// the order they were written, from a cursor kept in the store; at most
// maxPacks are rewritten per run (<= 0: all). It holds LeaseCompact, as
// compaction rewrites the same objects.
func (s *Service) Recompress(ctx context.Context, holder string, olderThan time.Duration, maxPacks int) (*RecompressResult, error) {
	res := &RecompressResult{}
	err := s.withLease(ctx, LeaseCompact, holder, func() error {
		projects, err := s.Store.ListProjects(ctx, "")
		if err != nil {
			return err
		}
		upto := s.now().Add(-olderThan)
		for _, p := range projects {
			if err := s.recompressProject(ctx, holder, p.ID, upto, maxPacks, res); err != nil {
				return fmt.Errorf("recompress project %s: %w", p.ID, err)
			}
			if res.More {
				return nil
			}
		}
		return nil
	})
	s.Metrics.outcome("recompress", err)
	s.Metrics.recompressed(res.Segments, res.BytesBefore-res.BytesAfter)
	return res, err
}

func (s *Service) recompressProject(ctx context.Context, holder, projectID string, upto time.Time, maxPacks int, res *RecompressResult) error {
	cur, err := s.Store.RecompressCursor(ctx, projectID)
	if err != nil {
		return err
	}
	for {
		packs, err := s.Store.ListPacksAfter(ctx, projectID, cur, upto, s.batch())
		if err != nil || len(packs) == 0 {
			return err
		}
		for _, pk := range packs {
			if maxPacks > 0 && res.Packs >= maxPacks {
				res.More = true
				return nil
			}
			if err := s.renewLease(ctx, LeaseCompact, holder); err != nil {
				return err
			}
			if err := s.recompressPack(ctx, projectID, pk.BlobKey, res); err != nil {
				return fmt.Errorf("pack %s: %w", pk.BlobKey, err)
			}
			cur = pk
			if err := s.Store.SetRecompressCursor(ctx, projectID, cur); err != nil {
				return err
			}
		}
	}
}

// recompressPack rewrites one pack if any of its live segments is S2.
func (s *Service) recompressPack(ctx context.Context, projectID, key string, res *RecompressResult) error {
	live, err := s.Store.ListPackSegments(ctx, key)
	if err != nil {
		return err
	}
	// The codec is in each segment's first byte; one range read of the
	// first segment is enough to skip packs written with zstd.
	if len(live) == 0 {
		return nil
	}
	first, err := s.Blobs.GetRange(ctx, key, live[0].Offset, 1)
	if err != nil {
		return err
	}
	if keyring.SealedCodec(first) != keyring.CodecS2 {
		return nil
	}
	p, err := s.project(ctx, projectID)
	if err != nil {
		return err
	}
	// Listed first, so that a crash between writing the new pack and
	// deleting this one leaves compaction to finish.
	if err := s.Store.MarkPackGarbage(ctx, key, projectID); err != nil {
		return err
	}
	keys := map[string]*keyring.DataKey{} // nil: the session's bytes are kept as they are
	var segs int
	var before, after int64
	filter := func(sg *veil.Segment, sealed []byte) ([]byte, error) {
		if keyring.SealedCodec(sealed) != keyring.CodecS2 {
			return sealed, nil
		}
		sk, ok := keys[sg.SessionID]
		if !ok {
			var err error
			if sk, err = s.sessionKey(ctx, p, sg.SessionID); err != nil {
				return nil, err
			}
			keys[sg.SessionID] = sk
		}
		if sk == nil {
			return sealed, nil
		}
		out := s.reseal(sk, sealed, ingest.SegmentAAD(p.orgID, p.id, sg.SessionID, sg.Seq))
		if len(out) < len(sealed) {
			segs++
			before += int64(len(sealed))
			after += int64(len(out))
			return out, nil
		}
		return sealed, nil
	}
	var cres CompactResult
	rewritten, err := s.rewritePack(ctx, key, live, filter, &cres)
	if err != nil {
		return err
	}
	if rewritten {
		res.Packs++
		res.Segments += segs
		res.BytesBefore += before
		res.BytesAfter += after
	}
	return nil
}

// sessionKey returns a session's key, or nil when its bytes are to be kept
// as they are: the session was deleted meanwhile (they leave with the old
// pack), or its key does not unwrap (logged; never a reason to stop the
// job or drop data). Store errors are returned.
func (s *Service) sessionKey(ctx context.Context, p *projectKey, sessionID string) (*keyring.DataKey, error) {
	ses, err := s.Store.FindSession(ctx, p.id, sessionID)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	sk, err := p.dek.UnwrapKey(ses.WrappedKey, ingest.SessionKeyAAD(p.orgID, p.id, sessionID))
	if err != nil {
		s.log().Warn("recompression keeps a session's segments as they are: its key does not unwrap",
			"project", p.id, "session", sessionID, "err", err)
		return nil, nil
	}
	return sk, nil
}

// reseal returns sealed (S2) sealed again with zstd under the same key and
// binding, or sealed itself when it does not open or the new copy does not
// read back identical (logged): never trade bytes that open for bytes that
// might not, and never let one bad segment stop the job.
func (s *Service) reseal(sk *keyring.DataKey, sealed []byte, aad keyring.AAD) []byte {
	plain, err := sk.Open(sealed, aad)
	if err != nil {
		s.log().Warn("recompression keeps a segment as it is: it does not open", "segment", aad.ID, "err", err)
		return sealed
	}
	out, err := sk.Seal(plain, aad)
	if err == nil {
		var back []byte
		if back, err = sk.Open(out, aad); err == nil && !bytes.Equal(back, plain) {
			err = errors.New("the copy reads back different")
		}
	}
	if err != nil {
		s.log().Warn("recompression keeps a segment as it is", "segment", aad.ID, "err", err)
		return sealed
	}
	return out
}
