package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/wal"
)

// Packer moves records from the write-ahead log into long-term storage:
// events of one project become one sealed batch object, replay segments of
// one project are concatenated into one pack object (each segment keeps its
// own seal, so the byte-range index can serve one segment alone). The
// blobs are written first, then one store transaction records their index
// and the log position covered; only then is the log trimmed. A crash
// anywhere repeats the work without storing anything twice.
type Packer struct {
	Log      Log
	Store    Store
	Blobs    blob.Bucket
	NodeID   string
	Logger   *slog.Logger
	Interval time.Duration // between rounds when idle (default 1s)
	MaxBytes int           // records per round, in bytes (default 32 MiB)
	Metrics  *Metrics

	keys  *keyCache
	next  wal.LSN // first LSN not yet packed
	kick  chan struct{}
	spare []byte // the last round's pack buffer, reused: packs are MBs a round
}

// NewPacker returns a packer sharing h's key cache.
func (h *Handler) NewPacker(log Log, blobs blob.Bucket, nodeID string) *Packer {
	return &Packer{Log: log, Store: h.store, Blobs: blobs, NodeID: nodeID, Logger: h.log, Metrics: h.metrics,
		keys: h.keys, kick: make(chan struct{}, 1)}
}

// Kick asks for a round soon (e.g. after a burst of appends).
func (p *Packer) Kick() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Run packs until ctx ends, then does a last round so a clean shutdown
// leaves the log empty.
func (p *Packer) Run(ctx context.Context) error {
	if p.Interval == 0 {
		p.Interval = time.Second
	}
	cp, err := p.Store.FindCheckpoint(ctx, p.NodeID)
	if err != nil {
		return fmt.Errorf("read ingest checkpoint: %w", err)
	}
	p.next = wal.LSN(cp)
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		// One round per interval takes what arrived meanwhile; only a round
		// that stopped at MaxBytes (a backlog) is followed at once. Rounds
		// back to back would each take the few records that came during
		// the last one: many small packs, and a pack file's and a database
		// commit's fsync competing with the log's several times a second.
		for {
			t0 := time.Now()
			n, full, err := p.round(context.WithoutCancel(ctx))
			if n > 0 {
				p.Metrics.packRound.Observe(time.Since(t0).Seconds())
			}
			if err != nil {
				p.Metrics.packErrors.Inc()
				p.Logger.Error("packing the write-ahead log failed; will retry", "err", err)
				break
			}
			if !full {
				break
			}
		}
		select {
		case <-ctx.Done():
			if _, err := p.Round(context.Background()); err != nil {
				p.Logger.Error("final pack round failed; the log keeps the data for the next start", "err", err)
			}
			return nil
		case <-t.C:
		case <-p.kick:
		}
	}
}

var errRoundFull = errors.New("round full")

// maxSparePack bounds the pack buffer kept between rounds.
const maxSparePack = 64 << 20

// pending accumulates one project's work in a round.
type pending struct {
	proj     *project
	events   []byte // batch object: sealed log records, see batchfmt.go
	count    int
	min, max time.Time
	pack     []byte // segments of a pack object, each still sealed
	segs     []veil.PackedSegment
	restore  map[string]*veil.Session // by session id: rows to restore if lost
}

// Round packs the records after the last checkpoint, up to MaxBytes, and
// returns how many records it consumed.
func (p *Packer) Round(ctx context.Context) (int, error) {
	n, _, err := p.round(ctx)
	return n, err
}

// round is Round, also telling whether it stopped at MaxBytes with
// records left.
func (p *Packer) round(ctx context.Context) (int, bool, error) {
	if p.MaxBytes == 0 {
		p.MaxBytes = 32 << 20
	}
	work := map[string]*pending{}
	var last wal.LSN
	n, size := 0, 0
	err := p.Log.Replay(p.next, func(lsn wal.LSN, b []byte) error {
		if lsn < p.next {
			return nil
		}
		if size > p.MaxBytes {
			return errRoundFull
		}
		last, n, size = lsn, n+1, size+len(b)
		if err := p.add(ctx, work, lsn, b); err != nil {
			// Unreadable records cannot be stored; count and skip them
			// rather than block everything behind them.
			p.Metrics.packErrors.Inc()
			p.Logger.Error("dropping unreadable log record", "lsn", uint64(lsn), "err", err)
		}
		return nil
	})
	full := errors.Is(err, errRoundFull)
	if err != nil && !full {
		return 0, false, fmt.Errorf("replay log: %w", err)
	}
	if n == 0 {
		return 0, false, nil
	}
	commit := &veil.PackCommit{NodeID: p.NodeID, LSN: uint64(last + 1)}
	for _, w := range work {
		if err := p.flush(ctx, w, commit); err != nil {
			return 0, false, err
		}
	}
	if _, err := p.Store.CommitPack(ctx, commit); err != nil {
		return 0, false, fmt.Errorf("commit pack: %w", err)
	}
	p.next = last + 1
	if err := p.Log.Trim(p.next); err != nil {
		p.Logger.Warn("trim write-ahead log", "err", err)
	}
	return n, full, nil
}

func (p *Packer) add(ctx context.Context, work map[string]*pending, lsn wal.LSN, b []byte) error {
	rec, err := decodeRecord(b)
	if err != nil {
		return err
	}
	w := work[rec.projectID]
	if w == nil {
		proj, err := p.keys.project(ctx, rec.projectID)
		if veil.ErrorCode(err) == veil.ENOTFOUND {
			return nil // project deleted since: its data is gone by design
		} else if err != nil {
			return err
		}
		w = &pending{proj: proj, pack: p.spare[:0]}
		p.spare = nil
		work[rec.projectID] = w
	}
	switch rec.kind {
	case kindEvents:
		m, err := decodeEventsMeta(rec.meta)
		if err != nil {
			return err
		}
		w.events = appendBatchEntry(w.events, rec.id, rec.body) // stays sealed
		w.count += int(m.count)
		if w.min.IsZero() || m.min.Before(w.min) {
			w.min = m.min
		}
		if m.max.After(w.max) {
			w.max = m.max
		}
		p.Metrics.packed.WithLabelValues("events").Inc()
	case kindSegment:
		mj, err := w.proj.dek.Open(rec.meta, segmentMetaAAD(rec.orgID, rec.projectID, rec.id))
		if err != nil {
			return fmt.Errorf("open segment meta: %w", err)
		}
		var m segmentMeta
		if err := json.Unmarshal(mj, &m); err != nil {
			return fmt.Errorf("decode segment meta: %w", err)
		}
		p.restoreFor(w, rec, &m)
		w.segs = append(w.segs, veil.PackedSegment{
			Segment: veil.Segment{ProjectID: rec.projectID, SessionID: rec.sessionID, Seq: rec.seq,
				Offset: int64(len(w.pack)), Length: int64(len(rec.body)),
				FirstTS: time.UnixMilli(m.FirstTS), LastTS: time.UnixMilli(m.LastTS), Events: m.Events},
			Meta: veil.SegmentMeta{Errors: m.Errors, URLPath: m.URLPath, UserAgent: m.UserAgent, UserIndex: m.UserIndex,
				Pages: m.Pages, Tags: m.Tags},
		})
		w.pack = append(w.pack, rec.body...) // still sealed by the session key
		p.Metrics.packed.WithLabelValues("segment").Inc()
	}
	return nil
}

// flush writes a project's batch and pack objects and adds them to commit.
func (p *Packer) flush(ctx context.Context, w *pending, commit *veil.PackCommit) error {
	if w.count > 0 {
		id := veil.NewID("evb")
		key := fmt.Sprintf("p/%s/events/%s/%s", w.proj.id, w.min.UTC().Format("2006-01-02"), id)
		if err := p.Blobs.Put(ctx, key, w.events); err != nil {
			return fmt.Errorf("put event batch: %w", err)
		}
		commit.Batches = append(commit.Batches, &veil.EventBatch{ID: id, ProjectID: w.proj.id, BlobKey: key,
			Count: w.count, MinTime: w.min, MaxTime: w.max, Bytes: int64(len(w.events))})
	}
	if len(w.segs) > 0 {
		key := fmt.Sprintf("p/%s/packs/%s", w.proj.id, veil.NewID("pk"))
		if err := p.Blobs.Put(ctx, key, w.pack); err != nil {
			return fmt.Errorf("put segment pack: %w", err)
		}
		if cap(w.pack) > cap(p.spare) && cap(w.pack) <= maxSparePack {
			p.spare = w.pack // Put has returned: nothing refers to it
		}
		for i := range w.segs {
			w.segs[i].BlobKey = key
		}
		commit.Segments = append(commit.Segments, w.segs...)
		for _, s := range w.restore {
			commit.Restore = append(commit.Restore, s)
		}
	}
	return nil
}

// restoreFor notes the session of a segment record for CommitPack to
// create again if its row is missing (and it was not deleted): the request
// that created the row did not wait for its fsync, and a power cut may
// have lost it while this record, synced, survived. Sessions this process
// created or read with the same key need nothing: the round's commit is
// synced, and makes their rows durable with it.
func (p *Packer) restoreFor(w *pending, rec *record, m *segmentMeta) {
	if len(m.SessionKey) == 0 || p.keys.known(rec.projectID, rec.sessionID, m.SessionKey) {
		return
	}
	if _, ok := w.restore[rec.sessionID]; ok {
		return
	}
	if w.restore == nil {
		w.restore = map[string]*veil.Session{}
	}
	first := time.UnixMilli(m.FirstTS)
	w.restore[rec.sessionID] = &veil.Session{ProjectID: rec.projectID, ID: rec.sessionID, WrappedKey: m.SessionKey,
		FirstSeen: first, LastSeen: first}
}
