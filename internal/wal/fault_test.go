package wal_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/wal"
)

// faultFS opens segment files whose writes, syncs and truncates fail on
// demand, as on a full or failing disk.
type faultFS struct {
	mu       sync.Mutex
	budget   int64 // bytes writes may still write before ENOSPC; <0: no limit
	syncErr  error // returned by Datasync while set
	truncErr error // returned by Truncate while set
	gate     chan struct{}
	groups   []int // requests per WritevAt call that failed
}

func newFaultFS() *faultFS { return &faultFS{budget: -1} }

func (f *faultFS) open(name string, flag int, perm fs.FileMode) (wal.File, error) {
	file, err := wal.OpenOSFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

func (f *faultFS) set(fn func(f *faultFS)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

type faultFile struct {
	wal.File
	fs *faultFS
}

func (f *faultFile) WritevAt(bufs [][]byte, off int64) (int, error) {
	f.fs.mu.Lock()
	gate := f.fs.gate
	f.fs.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	if f.fs.budget < 0 || int64(total) <= f.fs.budget {
		if f.fs.budget >= 0 {
			f.fs.budget -= int64(total)
		}
		return f.File.WritevAt(bufs, off)
	}
	// Write what fits, then fail like a full disk.
	f.fs.groups = append(f.fs.groups, len(bufs))
	var part [][]byte
	left := int(f.fs.budget)
	for _, b := range bufs {
		if left == 0 {
			break
		}
		n := min(left, len(b))
		part = append(part, b[:n])
		left -= n
	}
	f.fs.budget = 0
	n := 0
	if len(part) > 0 {
		var err error
		if n, err = f.File.WritevAt(part, off); err != nil {
			return n, err
		}
	}
	return n, &os.PathError{Op: "pwritev", Path: "fault", Err: syscall.ENOSPC}
}

func (f *faultFile) Datasync() error {
	f.fs.mu.Lock()
	err := f.fs.syncErr
	f.fs.mu.Unlock()
	if err != nil {
		return &os.PathError{Op: "fdatasync", Path: "fault", Err: err}
	}
	return f.File.Datasync()
}

func (f *faultFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	err := f.fs.truncErr
	f.fs.mu.Unlock()
	if err != nil {
		return &os.PathError{Op: "ftruncate", Path: "fault", Err: err}
	}
	return f.File.Truncate(size)
}

// TestAppend_Fault makes writes and syncs fail as on a full disk, and
// checks that the failing appends get ErrUnavailable, that no partial
// record stays behind, that acknowledged records stay intact, and that the
// log works again once the fault goes away.
func TestAppend_Fault(t *testing.T) {
	tests := []struct {
		name    string
		segSize int64
		before  int // records acknowledged before the fault
		fault   func(f *faultFS)
		cause   error // also wrapped, if set
	}{
		{"WriteENOSPCPartial", 64 << 10, 5, func(f *faultFS) { f.budget = 300 }, syscall.ENOSPC},
		{"WriteENOSPCNothing", 64 << 10, 5, func(f *faultFS) { f.budget = 0 }, syscall.ENOSPC},
		{"SyncEIO", 64 << 10, 5, func(f *faultFS) { f.syncErr = syscall.EIO }, syscall.EIO},
		{"SyncENOSPC", 64 << 10, 5, func(f *faultFS) { f.syncErr = syscall.ENOSPC }, syscall.ENOSPC},
		{"NewSegmentENOSPC", 1024, 3, func(f *faultFS) { f.budget = 10 }, syscall.ENOSPC},
		// The first group gets ENOSPC, the next ones EIO from retrying the truncate.
		{"TruncateFailsToo", 64 << 10, 5, func(f *faultFS) { f.budget = 300; f.truncErr = syscall.EIO }, nil},
		{"EmptyLog", 64 << 10, 0, func(f *faultFS) { f.budget = 100 }, syscall.ENOSPC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ffs := newFaultFS()
			opts := wal.Options{SegmentSize: tt.segSize}
			wal.SetOpenFile(&opts, ffs.open)
			l := MustOpen(t, dir, opts)
			var want []record
			for i := range tt.before {
				lsn := MustAppend(t, l, payload(i, 300))
				want = append(want, record{lsn, string(payload(i, 300))})
			}
			segsBefore := segments(t, dir)
			last := segsBefore[len(segsBefore)-1]
			sizeBefore := fileSize(t, last)

			ffs.set(tt.fault)
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = l.Append(context.Background(), payload(100+i, 300), payload(200+i, 300))
				})
			}
			wg.Wait()
			for i, err := range errs {
				if !errors.Is(err, wal.ErrUnavailable) || tt.cause != nil && !errors.Is(err, tt.cause) {
					t.Fatalf("Append %d during fault: %v, want ErrUnavailable wrapping %v", i, err, tt.cause)
				}
			}
			if got := segments(t, dir); len(got) != len(segsBefore) {
				t.Errorf("%d segment files after failure, want %d", len(got), len(segsBefore))
			}
			if tt.name != "TruncateFailsToo" {
				if got := fileSize(t, last); got != sizeBefore {
					t.Errorf("segment is %d bytes after failed append, want %d (rolled back)", got, sizeBefore)
				}
			}
			if got := MustReplay(t, l, 0); len(got) != len(want) {
				t.Fatalf("Replay during fault: %d records, want %d", len(got), len(want))
			}

			// Space comes back.
			ffs.set(func(f *faultFS) { f.budget, f.syncErr, f.truncErr = -1, nil, nil })
			for i := range 4 {
				lsn := MustAppend(t, l, payload(300+i, 300))
				if lsn != wal.LSN(len(want)+1) {
					t.Fatalf("LSN after recovery = %d, want %d", lsn, len(want)+1)
				}
				want = append(want, record{lsn, string(payload(300+i, 300))})
			}
			s := l.Stats()
			if s.Failures == 0 || s.Records != uint64(len(want)) {
				t.Errorf("Stats = %+v", s)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}

			l = MustOpen(t, dir, wal.Options{SegmentSize: tt.segSize})
			got := MustReplay(t, l, 0)
			if len(got) != len(want) {
				t.Fatalf("after reopen %d records, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("record %d differs after reopen", i)
				}
			}
			if s := l.Stats(); s.TruncatedBytes != 0 {
				t.Errorf("TruncatedBytes = %d after reopen, want 0", s.TruncatedBytes)
			}
		})
	}
}

// TestAppend_FaultFailsWholeGroup: the appends that queued during a sync
// share the next group commit, and all get its error.
func TestAppend_FaultFailsWholeGroup(t *testing.T) {
	ffs := newFaultFS()
	opts := wal.Options{}
	wal.SetOpenFile(&opts, ffs.open)
	l := MustOpen(t, t.TempDir(), opts)
	MustAppend(t, l, []byte("acknowledged"))

	gate := make(chan struct{})
	ffs.set(func(f *faultFS) { f.gate = gate })
	first := make(chan error)
	go func() { _, err := l.Append(context.Background(), []byte("first")); first <- err }()
	const n = 8
	errs := make(chan error, n)
	time.Sleep(50 * time.Millisecond) // first is in its write
	for i := range n {
		go func() { _, err := l.Append(context.Background(), payload(i, 100)); errs <- err }()
	}
	time.Sleep(200 * time.Millisecond) // the others queue behind it
	ffs.set(func(f *faultFS) { f.gate, f.budget = nil, 0 })
	close(gate)
	if err := <-first; !errors.Is(err, wal.ErrUnavailable) {
		t.Fatalf("first: %v", err)
	}
	for range n {
		if err := <-errs; !errors.Is(err, wal.ErrUnavailable) {
			t.Fatalf("queued append: %v, want ErrUnavailable", err)
		}
	}
	ffs.mu.Lock()
	groups := ffs.groups
	ffs.mu.Unlock()
	t.Logf("failed group commits, appends in each: %v", groups)
	if len(groups) < 2 || groups[1] < 2 {
		t.Errorf("queued appends were not grouped: %v", groups)
	}
	if got := MustReplay(t, l, 0); len(got) != 1 || got[0].Data != "acknowledged" {
		t.Errorf("Replay = %v", got)
	}
}

// TestAppend_ContextWhileQueued: a caller stuck behind a slow sync can
// give up; what it did not hand over is not written.
func TestAppend_ContextWhileQueued(t *testing.T) {
	ffs := newFaultFS()
	opts := wal.Options{}
	wal.SetOpenFile(&opts, ffs.open)
	l := MustOpen(t, t.TempDir(), opts)
	gate := make(chan struct{})
	ffs.set(func(f *faultFS) { f.gate = gate })
	first := make(chan error)
	go func() { _, err := l.Append(context.Background(), []byte("slow")); first <- err }()
	time.Sleep(20 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Append(ctx, []byte("impatient")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Append with expiring ctx: %v", err)
	}
	ffs.set(func(f *faultFS) { f.gate = nil })
	close(gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got := MustReplay(t, l, 0); len(got) != 1 || got[0].Data != "slow" {
		t.Errorf("Replay = %v", got)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
