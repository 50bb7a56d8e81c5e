package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// recover loads the segments found in the directory, in LSN order, and
// verifies them (see Open). It fills l.segs and l.stats.TruncatedBytes.
func (l *Log) recover() error {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("wal: read dir: %w", err)
	}
	var bases []LSN
	for _, e := range entries { // ReadDir sorts by name, and so by LSN
		if base, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			bases = append(bases, base)
		}
	}
	for i, base := range bases {
		last := i == len(bases)-1
		seg, err := l.loadSegment(base, last)
		if err != nil {
			return err
		}
		if seg == nil { // a torn creation, removed
			continue
		}
		if n := len(l.segs); n > 0 {
			prev := l.segs[n-1]
			if want := prev.base + LSN(prev.count); seg.base != want {
				return fmt.Errorf("%w: %s starts at LSN %d but %s ends before LSN %d (segment missing or overlapping)",
					ErrCorrupt, seg.path, seg.base, prev.path, want)
			}
		}
		l.segs = append(l.segs, seg)
	}
	return nil
}

// loadSegment verifies one segment file. In the last segment, bad bytes
// after the last good record are a torn write when they are no longer than
// one group commit; they are truncated away. A last segment too short to
// hold its header is a segment whose creation was cut short (records are
// written only once the header is durable); it is removed and nil returned.
func (l *Log) loadSegment(base LSN, last bool) (*segment, error) {
	path := filepath.Join(l.dir, segmentName(base))
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("wal: stat %s: %w", path, err)
	}
	size := fi.Size()

	var hdr [headerSize]byte
	n, err := f.ReadAt(hdr[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("wal: read %s: %w", path, err)
	}
	hbase, herr := decodeHeader(hdr[:n])
	if herr != nil {
		if last && size <= headerSize {
			l.logger.Warn("removing segment with torn header", "file", path, "size", size)
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("wal: remove torn segment: %w", err)
			}
			l.stats.TruncatedBytes += size
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %s offset 0: %s", ErrCorrupt, path, herr)
	}
	if hbase != base {
		return nil, fmt.Errorf("%w: %s offset 0: header says base LSN %d", ErrCorrupt, path, hbase)
	}

	seg := &segment{base: base, path: path}
	fr := l.newFrameReader(f, size)
	for {
		_, _, err := fr.next()
		if err == nil {
			seg.count++
			continue
		}
		if err == io.EOF {
			break
		}
		var ferr *frameError
		if !errors.As(err, &ferr) {
			return nil, fmt.Errorf("wal: read %s: %w", path, err)
		}
		tail := size - fr.off
		if !last || tail > int64(l.batchLimit) {
			return nil, fmt.Errorf("%w: %s offset %d: %s (%d bytes follow; not a torn write)",
				ErrCorrupt, path, fr.off, ferr.reason, tail)
		}
		if err := truncateTail(path, fr.off, !l.opts.NoSync); err != nil {
			return nil, err
		}
		l.logger.Warn("truncated torn tail of last segment",
			"file", path, "offset", fr.off, "bytes", tail, "reason", ferr.reason)
		l.stats.TruncatedBytes += tail
		size = fr.off
		break
	}
	seg.size = size
	return seg, nil
}

// truncateTail cuts path at size and, if sync, makes that durable.
func truncateTail(path string, size int64, sync bool) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("wal: truncate torn tail: %w", err)
	}
	err = f.Truncate(size)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wal: truncate torn tail of %s: %w", path, err)
	}
	return nil
}
