package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// segView is what Replay reads of a segment: its durable part when the
// Replay started.
type segView struct {
	seg   *segment
	count uint64
	size  int64
	start position // the segment's hint when the Replay started
}

// Replay calls fn for every durable record with an LSN at or after from, in
// LSN order. It reads the records that were durable when it was called
// (never a record still being written) and is safe to run alongside Append
// and Trim: a segment trimmed while Replay reads it is deleted afterwards.
// rec is valid only during the call; fn must copy what it keeps.
//
// Every record's checksum is verified again; damage found on the way is
// an ErrCorrupt. An error from fn stops the replay and is returned as is.
func (l *Log) Replay(from LSN, fn func(lsn LSN, rec []byte) error) error {
	if l.closed.Load() {
		return ErrClosed
	}
	l.mu.Lock()
	var views []segView
	for _, s := range l.segs {
		if s.count == 0 || s.base+LSN(s.count) <= from {
			continue
		}
		s.refs++
		views = append(views, segView{seg: s, count: s.count, size: s.size, start: s.hint})
	}
	l.mu.Unlock()

	for i, v := range views {
		err := l.replaySegment(v, from, fn)
		l.unref(v.seg)
		if err != nil {
			for _, rest := range views[i+1:] {
				l.unref(rest.seg)
			}
			return err
		}
	}
	return nil
}

func (l *Log) replaySegment(v segView, from LSN, fn func(LSN, []byte) error) error {
	f, err := os.Open(v.seg.path)
	if err != nil {
		return fmt.Errorf("wal: replay: %w", err)
	}
	defer f.Close()
	fr := l.newFrameReader(f, v.size)
	lsn := v.seg.base
	if h := v.start; h.lsn > lsn && h.lsn <= from && h.lsn <= lsn+LSN(v.count) && h.off <= v.size {
		// Records below the hint are durable and were verified when
		// written or opened; start at the hint instead of skipping them.
		fr.seek(h.off)
		lsn = h.lsn
	}
	end := v.seg.base + LSN(v.count)
	defer func() { l.setHint(v.seg, position{lsn: lsn, off: fr.off}) }()
	for lsn < end {
		if lsn < from {
			if err := fr.skip(); err != nil {
				return l.replayError(v.seg.path, fr.off, err)
			}
			lsn++
			continue
		}
		off, p, err := fr.next()
		if err != nil {
			return l.replayError(v.seg.path, fr.off, err)
		}
		if err := fn(lsn, p); err != nil {
			// The record fn refused is the next one to read.
			fr.off = off
			return err
		}
		lsn++
	}
	return nil
}

// setHint records where the latest Replay of s stopped (the latest, not
// the furthest: a one-off full Replay must not hide where the follower is).
// Records are only ever appended to a segment, and those below pos were
// durable, so pos stays valid for the segment's life.
func (l *Log) setHint(s *segment, pos position) {
	l.mu.Lock()
	s.hint = pos
	l.mu.Unlock()
}

func (l *Log) replayError(path string, off int64, err error) error {
	var ferr *frameError
	if errors.As(err, &ferr) {
		return fmt.Errorf("%w: %s offset %d: %s", ErrCorrupt, path, off, ferr.reason)
	}
	if err == io.EOF {
		return fmt.Errorf("%w: %s offset %d: fewer records than when opened", ErrCorrupt, path, off)
	}
	return fmt.Errorf("wal: replay %s: %w", path, err)
}

// unref ends a Replay's use of s, deleting its file if it was trimmed.
func (l *Log) unref(s *segment) {
	l.mu.Lock()
	s.refs--
	trimmed := s.trimmed
	l.mu.Unlock()
	if trimmed {
		if err := l.removeTrimmed(); err != nil {
			l.logger.Warn("remove trimmed segment", "err", err)
		}
	}
}

// Trim deletes the segment files all of whose records have LSNs below upTo,
// oldest first; the packer calls it once those records are stored
// elsewhere. The segment being written is never deleted, so records of it
// below upTo, and of any segment that also holds records at or above upTo,
// are replayed again after a restart: the consumer must be idempotent.
// Nothing but the files is recorded: after a restart, Replay(0, …) starts
// at the first record of the oldest remaining segment. A file that a
// Replay is reading is deleted when that Replay is done with it.
func (l *Log) Trim(upTo LSN) error {
	if l.closed.Load() {
		return ErrClosed
	}
	l.mu.Lock()
	for len(l.segs) > 1 && l.segs[0].base+LSN(l.segs[0].count) <= upTo {
		s := l.segs[0]
		l.segs = l.segs[1:]
		s.trimmed = true
		l.trimmed = append(l.trimmed, s)
	}
	l.mu.Unlock()
	if err := l.removeTrimmed(); err != nil {
		return fmt.Errorf("wal: trim: %w", err)
	}
	return nil
}

// removeTrimmed deletes the files of trimmed segments, oldest first, up to
// the first one a Replay still reads. Files are only ever deleted from the
// old end, so a crash can leave fewer segments but never a gap.
func (l *Log) removeTrimmed() error {
	l.rmMu.Lock()
	defer l.rmMu.Unlock()
	l.mu.Lock()
	var remove []*segment
	for len(l.trimmed) > 0 && l.trimmed[0].refs == 0 {
		remove = append(remove, l.trimmed[0])
		l.trimmed[0] = nil
		l.trimmed = l.trimmed[1:]
	}
	l.mu.Unlock()
	if len(remove) == 0 {
		return nil
	}
	for i, s := range remove {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			// Keep the order: put back what is left and try again later.
			l.mu.Lock()
			l.trimmed = append(remove[i:len(remove):len(remove)], l.trimmed...)
			l.mu.Unlock()
			return err
		}
	}
	return syncDir(l.dir)
}
