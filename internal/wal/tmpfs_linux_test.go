package wal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/veil-privacy/veil/internal/wal"
)

// TestAppend_TmpfsFull fills a real 2 MiB tmpfs: appends fail with
// ErrUnavailable (ENOSPC), acknowledged records stay intact, and appends
// work again once space is freed. It needs to mount a file system (root).
func TestAppend_TmpfsFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		t.Skipf("cannot mount a size-limited tmpfs (needs root / CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	ballast := filepath.Join(dir, "ballast")
	writeFile(t, ballast, make([]byte, 256<<10))

	opts := wal.Options{SegmentSize: 200 << 10}
	l := MustOpen(t, filepath.Join(dir, "wal"), opts)
	var want []record
	var failure error
	for i := 0; i < 1000; i++ {
		rec := payload(i, 3000+i%2000)
		lsn, err := l.Append(context.Background(), rec)
		if err != nil {
			failure = err
			break
		}
		want = append(want, record{lsn, string(rec)})
	}
	if !errors.Is(failure, wal.ErrUnavailable) || !errors.Is(failure, syscall.ENOSPC) {
		t.Fatalf("Append on a full disk: %v, want ErrUnavailable wrapping ENOSPC", failure)
	}
	t.Logf("disk full after %d records: %v", len(want), failure)
	for i := range 3 {
		if _, err := l.Append(context.Background(), payload(5000+i, 3000)); !errors.Is(err, wal.ErrUnavailable) {
			t.Fatalf("Append while still full: %v", err)
		}
	}
	if got := MustReplay(t, l, 0); len(got) != len(want) {
		t.Fatalf("Replay while full: %d records, want %d", len(got), len(want))
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		rec := payload(6000+i, 3000)
		lsn := MustAppend(t, l, rec)
		if lsn != wal.LSN(len(want)+1) {
			t.Fatalf("LSN after space returned = %d, want %d", lsn, len(want)+1)
		}
		want = append(want, record{lsn, string(rec)})
	}
	s := l.Stats()
	t.Logf("stats: %+v", s)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = MustOpen(t, filepath.Join(dir, "wal"), opts)
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
		t.Errorf("TruncatedBytes = %d, want 0", s.TruncatedBytes)
	}
	l.Close()
}
