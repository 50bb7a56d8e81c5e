package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// LSN (log sequence number) identifies one record: records are numbered
// 1, 2, 3, … in append order, across segments and restarts. LSNs are never
// reused (a failed append consumes none), so a plain comparison orders
// records. 0 is not a record; Replay(0, …) starts at the oldest one kept.
type LSN uint64

// Defaults for Options.
const (
	DefaultSegmentSize = 64 << 20
	DefaultMaxRecord   = 8 << 20

	minSegmentSize = 1 << 10
	maxMaxRecord   = 1 << 30
	minBatchLimit  = 4 << 20
)

// Errors returned by the log, wrapped with context; test with errors.Is.
var (
	// ErrUnavailable: the write or fdatasync of a group commit failed (disk
	// full, I/O error) and the records of that Append are not durable. The
	// log has removed the partial write and keeps serving: retry later
	// (ingest answers 503 with Retry-After). Earlier records are intact.
	ErrUnavailable = errors.New("wal: log unavailable, records not written")

	// ErrCorrupt: a segment holds bytes that do not verify where no crash
	// could have left them (not the torn tail of the last segment), or the
	// segments do not follow on from one another. The message names the
	// file and offset. Open refuses to start rather than drop records that
	// may have been acknowledged.
	ErrCorrupt = errors.New("wal: corrupt segment")

	// ErrTooLarge: a record is larger than Options.MaxRecord, or one
	// Append's records together exceed the group-commit limit
	// (2×MaxRecord, at least 4 MiB).
	ErrTooLarge = errors.New("wal: record too large")

	// ErrClosed: the log has been closed.
	ErrClosed = errors.New("wal: log closed")
)

// Options configure a Log. The zero value gives the defaults.
type Options struct {
	// SegmentSize is the size at which the writer starts a new segment
	// file (default 64 MiB). It is a soft limit: the records of one Append
	// are never split, so a segment can exceed it by one group commit.
	SegmentSize int64

	// MaxRecord is the largest record accepted, in bytes (default 8 MiB,
	// at most 1 GiB). Open also rejects stored length fields above it, so
	// lowering it below the size of stored records makes Open fail.
	MaxRecord int

	// NoSync skips fdatasync: an Append returns once its records are in
	// the page cache, so a power loss (but not a process crash) can lose
	// acknowledged records. For tests of the logic only.
	NoSync bool

	// Logger receives warnings (torn tail truncated, write failures). It
	// never receives record contents. Default slog.Default().
	Logger *slog.Logger

	// Observe, if set, is called by the writer after every successful
	// group commit with its size and how long the write and the fdatasync
	// took (for metrics: acknowledgement latency is mostly the sync). It
	// runs on the writer goroutine and must not block.
	Observe func(Commit)

	// openFile opens segment files for writing; tests inject faults here.
	openFile openFileFunc
	// allocHook, if set, sees the size of every record buffer allocated
	// while reading (the fuzz test checks that none exceeds MaxRecord).
	allocHook func(n int)
}

// Commit describes one successful group commit, for Options.Observe.
type Commit struct {
	Appends int           // Append calls that shared it
	Records int           // records written
	Bytes   int           // bytes written, framing included
	Write   time.Duration // the vectored write
	Sync    time.Duration // the fdatasync (0 with NoSync)
}

// batchLimit is the most bytes one group commit writes, and so the most
// bytes a crash can leave half-written at the end of the last segment.
func (o *Options) batchLimit() int {
	return max(2*(o.MaxRecord+frameHeader), minBatchLimit)
}

func (o *Options) normalize() error {
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SegmentSize < minSegmentSize {
		return fmt.Errorf("wal: segment size %d below minimum %d", o.SegmentSize, minSegmentSize)
	}
	if o.MaxRecord == 0 {
		o.MaxRecord = DefaultMaxRecord
	}
	if o.MaxRecord < 0 || o.MaxRecord > maxMaxRecord {
		return fmt.Errorf("wal: max record %d out of range (1 to %d)", o.MaxRecord, maxMaxRecord)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.openFile == nil {
		o.openFile = openOSFile
	}
	return nil
}

// Stats are counters since Open.
type Stats struct {
	Appends  uint64 // successful Append calls
	Records  uint64 // records made durable
	Bytes    uint64 // bytes written by successful group commits, framing included
	Syncs    uint64 // successful group commits: one write and one fdatasync each (no fdatasync with NoSync)
	Failures uint64 // group commits that failed (ErrUnavailable)

	// TruncatedBytes is the size of the torn tail that Open cut off the
	// last segment (a crash in the middle of a write); 0 after a clean stop.
	TruncatedBytes int64

	Segments int // segment files in the log now
	FirstLSN LSN // oldest record kept (NextLSN if none)
	NextLSN  LSN // LSN the next record will get
}

// RecordsPerSync is the average number of records one fdatasync made
// durable: the group-commit factor.
func (s Stats) RecordsPerSync() float64 {
	if s.Syncs == 0 {
		return 0
	}
	return float64(s.Records) / float64(s.Syncs)
}

// segment is one segment file. base is fixed; the other fields are guarded
// by Log.mu and describe only durable records.
type segment struct {
	base    LSN
	path    string
	count   uint64 // durable records
	size    int64  // durable bytes, header included
	refs    int    // Replay calls reading it
	trimmed bool   // removed from the log; delete the file when refs is 0

	// hint is where a Replay of this segment stopped: the offset of
	// record hint.lsn (or of the end of the records read). A later Replay
	// from at or past it starts there instead of skipping every frame from
	// the segment's start, so a consumer that follows the log (the packer)
	// reads each byte once rather than once per round.
	hint position
}

// position is the file offset of the frame of record lsn in a segment.
type position struct {
	lsn LSN
	off int64
}

// Log is a write-ahead log in one directory. All methods are safe for
// concurrent use.
type Log struct {
	dir        string
	opts       Options
	logger     *slog.Logger
	batchLimit int
	lock       *os.File

	closeMu sync.RWMutex // held shared by Append, exclusively by Close
	closed  atomic.Bool

	reqs chan *request
	stop chan struct{}
	done chan struct{}

	mu    sync.Mutex
	segs  []*segment // in LSN order; the last is the one being written
	next  LSN        // LSN of the next durable record
	stats Stats

	// trimmed are segments removed from segs whose files are still to be
	// deleted, in LSN order; rmMu serialises the deleting.
	trimmed []*segment
	rmMu    sync.Mutex

	w writer // owned by the writer goroutine
}

// Open opens the log in dir, creating dir (mode 0700) and a first segment
// if needed. It verifies every record of every segment. A torn tail of the
// last segment (a crash mid-write) is cut off and reported in
// Stats().TruncatedBytes and in a warning log; any other damage is an
// ErrCorrupt naming the file and offset.
func Open(dir string, opts Options) (*Log, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("wal: create dir: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	l := &Log{
		dir:        dir,
		opts:       opts,
		logger:     opts.Logger.With("component", "wal"),
		batchLimit: opts.batchLimit(),
		lock:       lock,
		reqs:       make(chan *request),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	if err := l.recover(); err != nil {
		lock.Close()
		return nil, err
	}
	if err := l.openActive(); err != nil {
		lock.Close()
		return nil, err
	}
	go l.run()
	return l, nil
}

// openActive opens the last segment for writing, creating the first
// segment of an empty log.
func (l *Log) openActive() error {
	if len(l.segs) == 0 {
		f, seg, err := l.createSegment(1)
		if err != nil {
			return fmt.Errorf("wal: %w", err)
		}
		l.segs = []*segment{seg}
		l.next = 1
		l.w = writer{f: f, seg: seg, size: seg.size, next: 1}
		return nil
	}
	seg := l.segs[len(l.segs)-1]
	f, err := l.opts.openFile(seg.path, os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("wal: open %s: %w", seg.path, err)
	}
	l.next = seg.base + LSN(seg.count)
	l.w = writer{f: f, seg: seg, size: seg.size, next: l.next}
	return nil
}

// createSegment creates the segment file whose first record will be base,
// with its header, and makes it and its directory entry durable. On error
// nothing is left behind.
func (l *Log) createSegment(base LSN) (file, *segment, error) {
	path := filepath.Join(l.dir, segmentName(base))
	f, err := l.opts.openFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("create segment %s: %w", path, err)
	}
	err = writeFull(f, encodeHeader(base), 0)
	if err == nil && !l.opts.NoSync {
		err = f.Datasync()
		if err == nil {
			err = syncDir(l.dir)
		}
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, nil, fmt.Errorf("create segment %s: %w", path, err)
	}
	return f, &segment{base: base, path: path, size: headerSize}, nil
}

func writeFull(f file, b []byte, off int64) error {
	_, err := f.WritevAt([][]byte{b}, off)
	return err
}

// Close waits for the Appends in progress, stops the writer and closes the
// files. Later calls return ErrClosed, except Close, which returns nil.
func (l *Log) Close() error {
	l.closeMu.Lock()
	defer l.closeMu.Unlock()
	if l.closed.Load() {
		return nil
	}
	l.closed.Store(true)
	close(l.stop)
	<-l.done
	err := l.w.f.Close()
	if cerr := l.lock.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wal: close: %w", err)
	}
	return nil
}

// Stats returns the counters since Open.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Segments = len(l.segs)
	s.NextLSN = l.next
	s.FirstLSN = l.next
	if len(l.segs) > 0 && l.segs[0].base < l.next {
		s.FirstLSN = l.segs[0].base
	}
	return s
}

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }
