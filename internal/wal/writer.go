package wal

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// request is one Append call handed to the writer goroutine.
type request struct {
	buf  []byte // the call's frames, encoded by the caller
	n    int    // records in buf
	lsn  LSN    // set by the writer: LSN of the first record
	done chan error
}

// writer is the state owned by the writer goroutine (and by Open and Close
// before and after it runs).
type writer struct {
	f         file     // the last segment, open for writing
	seg       *segment // and its entry in Log.segs
	size      int64    // bytes of f known good: header and durable records
	next      LSN      // LSN of the next record
	dirty     bool     // f may hold bytes past size (a rollback failed)
	unsynced  bool     // a rollback truncated f since its last fdatasync
	batch     []*request
	iov       [][]byte
	nextBatch *request // received but did not fit in the last batch
	failed    int      // group commits failed in a row
}

var errNoRecords = errors.New("wal: append: no records")

// Append writes recs as consecutive records and returns once they are
// durable (written and fdatasynced), with the LSN of the first; recs[i]
// gets LSN first+i. The records of one call are written contiguously, in
// one segment, by one group commit: after a crash either all of them are
// there, or (for an unacknowledged call cut by the crash) a prefix of them.
// Append keeps no reference to recs after it returns.
//
// Concurrent calls share group commits: while one write+fdatasync is in
// flight, new calls queue, and the next group commit writes all of them with
// one pwritev and one fdatasync. A call on an idle log is written at once.
//
// ctx is honoured while the call waits to be queued; once its records are
// handed to the writer, Append waits for and reports the outcome. A failed
// write or sync returns an error wrapping ErrUnavailable to every call of
// that group commit; none of their records is kept and no LSN is used.
func (l *Log) Append(ctx context.Context, recs ...[]byte) (LSN, error) {
	if len(recs) == 0 {
		return 0, errNoRecords
	}
	total := 0
	for i, r := range recs {
		if len(r) > l.opts.MaxRecord {
			return 0, fmt.Errorf("%w: record %d is %d bytes, maximum %d", ErrTooLarge, i, len(r), l.opts.MaxRecord)
		}
		total += frameHeader + len(r)
	}
	if total > l.batchLimit {
		return 0, fmt.Errorf("%w: %d records take %d bytes, maximum per append %d", ErrTooLarge, len(recs), total, l.batchLimit)
	}
	buf := make([]byte, 0, total)
	for _, r := range recs {
		buf = appendFrame(buf, r)
	}
	req := &request{buf: buf, n: len(recs), done: make(chan error, 1)}

	l.closeMu.RLock()
	defer l.closeMu.RUnlock()
	if l.closed.Load() {
		return 0, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("wal: append: %w", err)
	}
	select {
	case l.reqs <- req:
	case <-ctx.Done():
		return 0, fmt.Errorf("wal: append: %w", ctx.Err())
	}
	if err := <-req.done; err != nil {
		return 0, err
	}
	return req.lsn, nil
}

// run is the writer goroutine: it takes the first waiting request (blocking
// while the log is idle), adds every other request already waiting, up to
// batchLimit bytes, and commits them together.
func (l *Log) run() {
	defer close(l.done)
	w := &l.w
	for {
		first := w.nextBatch
		w.nextBatch = nil
		if first == nil {
			select {
			case first = <-l.reqs:
			case <-l.stop:
				return
			}
		}
		batch := append(w.batch[:0], first)
		bytes := len(first.buf)
	collect:
		for bytes < l.batchLimit {
			select {
			case r := <-l.reqs:
				if bytes+len(r.buf) > l.batchLimit {
					w.nextBatch = r
					break collect
				}
				batch = append(batch, r)
				bytes += len(r.buf)
			default:
				break collect
			}
		}
		l.commit(batch, bytes)
		clear(batch)
		w.batch = batch[:0]
	}
}

// commit writes and syncs one batch and wakes its callers.
func (l *Log) commit(batch []*request, bytes int) {
	w := &l.w
	err := l.prepare(bytes)
	var took Commit
	if err == nil {
		took, err = l.write(batch)
	}
	if err != nil {
		l.mu.Lock()
		l.stats.Failures++
		l.mu.Unlock()
		// Log the first failure of a run, not each one of a disk-full storm.
		if w.failed == 0 {
			l.logger.Error("log unavailable: group commit failed", "bytes", bytes, "appends", len(batch), "err", err)
		}
		w.failed++
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	if w.failed > 0 {
		l.logger.Info("log available again", "failed_commits", w.failed)
		w.failed = 0
	}
	lsn := w.next
	for _, r := range batch {
		r.lsn = lsn
		lsn += LSN(r.n)
	}
	records := uint64(lsn - w.next)
	w.next = lsn
	w.size += int64(bytes)

	l.mu.Lock()
	w.seg.count += records
	w.seg.size = w.size
	l.next = lsn
	l.stats.Appends += uint64(len(batch))
	l.stats.Records += records
	l.stats.Bytes += uint64(bytes)
	l.stats.Syncs++
	l.mu.Unlock()

	for _, r := range batch {
		r.done <- nil
	}
	if l.opts.Observe != nil {
		took.Appends, took.Records, took.Bytes = len(batch), int(records), bytes
		l.opts.Observe(took)
	}
}

// prepare readies the last segment for bytes more: it retries a failed
// rollback, and starts a new segment when the current one would outgrow
// SegmentSize (unless it holds no record yet).
func (l *Log) prepare(bytes int) error {
	w := &l.w
	if w.dirty {
		if err := w.f.Truncate(w.size); err != nil {
			return fmt.Errorf("%w: truncate %s: %w", ErrUnavailable, w.seg.path, err)
		}
		w.dirty = false
	}
	if w.size+int64(bytes) <= l.opts.SegmentSize || w.size == headerSize {
		return nil
	}
	// The segment being closed must be complete on disk: after a rollback
	// its truncation is not durable yet.
	if w.unsynced && !l.opts.NoSync {
		if err := w.f.Datasync(); err != nil {
			return fmt.Errorf("%w: sync %s: %w", ErrUnavailable, w.seg.path, err)
		}
		w.unsynced = false
	}
	f, seg, err := l.createSegment(w.next)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := w.f.Close(); err != nil {
		l.logger.Warn("close segment", "file", w.seg.path, "err", err)
	}
	l.mu.Lock()
	l.segs = append(l.segs, seg)
	l.mu.Unlock()
	w.f, w.seg, w.size, w.unsynced = f, seg, headerSize, false
	return nil
}

// write writes the batch after the last good byte and syncs it. On failure
// it truncates the segment back, so that no partial record stays behind.
func (l *Log) write(batch []*request) (Commit, error) {
	w := &l.w
	iov := w.iov[:0]
	for _, r := range batch {
		iov = append(iov, r.buf)
	}
	var took Commit
	t0 := time.Now()
	_, err := w.f.WritevAt(iov, w.size)
	t1 := time.Now()
	took.Write = t1.Sub(t0)
	clear(iov)
	w.iov = iov[:0]
	op := "write"
	if err == nil && !l.opts.NoSync {
		op = "sync"
		err = w.f.Datasync()
		took.Sync = time.Since(t1)
	}
	if err == nil {
		w.unsynced = false
		return took, nil
	}
	err = fmt.Errorf("%w: %s %s: %w", ErrUnavailable, op, w.seg.path, err)
	if terr := w.f.Truncate(w.size); terr != nil {
		w.dirty = true
		l.logger.Error("truncate after failed write", "file", w.seg.path, "err", terr)
	}
	w.unsynced = true
	return Commit{}, err
}
