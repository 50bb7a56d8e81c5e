package wal_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/wal"
)

// quiet is a logger that drops everything (tests that expect warnings).
var quiet = slog.New(slog.DiscardHandler)

// MustOpen opens the log in dir and closes it at the end of the test.
func MustOpen(tb testing.TB, dir string, opts wal.Options) *wal.Log {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	l, err := wal.Open(dir, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// MustAppend appends recs and fails the test on error.
func MustAppend(tb testing.TB, l *wal.Log, recs ...[]byte) wal.LSN {
	tb.Helper()
	lsn, err := l.Append(context.Background(), recs...)
	if err != nil {
		tb.Fatalf("Append: %v", err)
	}
	return lsn
}

type record struct {
	LSN  wal.LSN
	Data string
}

// MustReplay returns every record at or after from.
func MustReplay(tb testing.TB, l *wal.Log, from wal.LSN) []record {
	tb.Helper()
	var out []record
	err := l.Replay(from, func(lsn wal.LSN, rec []byte) error {
		if n := len(out); n > 0 && lsn != out[n-1].LSN+1 {
			tb.Errorf("Replay: LSN %d after %d", lsn, out[n-1].LSN)
		}
		out = append(out, record{lsn, string(rec)})
		return nil
	})
	if err != nil {
		tb.Fatalf("Replay: %v", err)
	}
	return out
}

// payload is a deterministic record of n bytes for id.
func payload(id, n int) []byte {
	b := make([]byte, n)
	x := uint32(id)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func segments(tb testing.TB, dir string) []string {
	tb.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestLog_AppendReplay(t *testing.T) {
	tests := []struct {
		name    string
		opts    wal.Options
		calls   [][]int // record sizes of each Append call
		wantSeg int     // segment files expected (0: don't check)
	}{
		{name: "OneRecord", calls: [][]int{{10}}, wantSeg: 1},
		{name: "EmptyRecord", calls: [][]int{{0}, {0, 0}}, wantSeg: 1},
		{name: "ManyPerCall", calls: [][]int{{1, 2, 3}, {4}, {5, 6}}, wantSeg: 1},
		{name: "MaxRecord", opts: wal.Options{MaxRecord: 1000}, calls: [][]int{{1000}, {999, 1000}}},
		{name: "RollSegments", opts: wal.Options{SegmentSize: 1024}, calls: repeat([]int{300}, 20), wantSeg: 7},
		{name: "CallLargerThanSegment", opts: wal.Options{SegmentSize: 1024}, calls: [][]int{{100}, {3000}, {100}}, wantSeg: 3},
		{name: "LargeRecords", calls: [][]int{{300_000}, {10}, {600_000, 5}, {1 << 20}}},
		{name: "NoSync", opts: wal.Options{NoSync: true, SegmentSize: 2048}, calls: repeat([]int{100, 200}, 30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := MustOpen(t, dir, tt.opts)
			var want []record
			id := 0
			for _, sizes := range tt.calls {
				var recs [][]byte
				for _, n := range sizes {
					recs = append(recs, payload(id, n))
					id++
				}
				lsn := MustAppend(t, l, recs...)
				if want := wal.LSN(len(want) + 1); lsn != want {
					t.Fatalf("Append LSN = %d, want %d", lsn, want)
				}
				for i, r := range recs {
					want = append(want, record{lsn + wal.LSN(i), string(r)})
				}
			}
			check := func(l *wal.Log) {
				t.Helper()
				got := MustReplay(t, l, 0)
				if len(got) != len(want) {
					t.Fatalf("Replay: %d records, want %d", len(got), len(want))
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("record %d: LSN %d len %d, want LSN %d len %d", i, got[i].LSN, len(got[i].Data), want[i].LSN, len(want[i].Data))
					}
				}
				// From the middle.
				mid := len(want) / 2
				if got := MustReplay(t, l, want[mid].LSN); len(got) != len(want)-mid || got[0] != want[mid] {
					t.Fatalf("Replay(%d): %d records", want[mid].LSN, len(got))
				}
			}
			check(l)
			if tt.wantSeg > 0 {
				if got := len(segments(t, dir)); got != tt.wantSeg {
					t.Errorf("%d segment files, want %d", got, tt.wantSeg)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = MustOpen(t, dir, tt.opts)
			check(l)
			if s := l.Stats(); s.NextLSN != wal.LSN(len(want)+1) || s.TruncatedBytes != 0 {
				t.Errorf("after reopen: %+v", s)
			}
			// LSNs go on after a restart.
			if lsn := MustAppend(t, l, []byte("next")); lsn != wal.LSN(len(want)+1) {
				t.Errorf("LSN after reopen = %d, want %d", lsn, len(want)+1)
			}
		})
	}
}

func repeat(sizes []int, n int) [][]int {
	out := make([][]int, n)
	for i := range out {
		out[i] = sizes
	}
	return out
}

func TestLog_Errors(t *testing.T) {
	l := MustOpen(t, t.TempDir(), wal.Options{MaxRecord: 100})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		recs [][]byte
		want error
	}{
		{name: "ErrTooLarge", recs: [][]byte{make([]byte, 101)}, want: wal.ErrTooLarge},
		{name: "ErrTooLargeSecond", recs: [][]byte{nil, make([]byte, 101)}, want: wal.ErrTooLarge},
		{name: "ErrTooLargeTotal", recs: repeatRec(make([]byte, 100), 50000), want: wal.ErrTooLarge},
		{name: "NoRecords", recs: nil, want: errors.New("no records")},
		{name: "Cancelled", ctx: cancelled, recs: [][]byte{{1}}, want: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			_, err := l.Append(ctx, tt.recs...)
			if err == nil || !errors.Is(err, tt.want) && !strings.Contains(err.Error(), tt.want.Error()) {
				t.Fatalf("Append error = %v, want %v", err, tt.want)
			}
		})
	}
	if s := l.Stats(); s.Records != 0 || s.NextLSN != 1 {
		t.Errorf("failed appends changed the log: %+v", s)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for name, err := range map[string]error{
		"Append": func() error { _, err := l.Append(context.Background(), []byte("x")); return err }(),
		"Replay": l.Replay(0, func(wal.LSN, []byte) error { return nil }),
		"Trim":   l.Trim(1),
	} {
		if !errors.Is(err, wal.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func repeatRec(r []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func TestOpen_Options(t *testing.T) {
	for _, o := range []wal.Options{{SegmentSize: 10}, {SegmentSize: -1}, {MaxRecord: -1}, {MaxRecord: 2 << 30}} {
		if _, err := wal.Open(t.TempDir(), o); err == nil {
			t.Errorf("Open(%+v) succeeded", o)
		}
	}
}

func TestOpen_Locked(t *testing.T) {
	dir := t.TempDir()
	MustOpen(t, dir, wal.Options{})
	if _, err := wal.Open(dir, wal.Options{}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open: %v, want in use", err)
	}
}

func TestOpen_DirMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "wal")
	MustOpen(t, dir, wal.Options{})
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", fi.Mode().Perm())
	}
}

func TestLog_ReplayStop(t *testing.T) {
	l := MustOpen(t, t.TempDir(), wal.Options{SegmentSize: 1024})
	for i := range 20 {
		MustAppend(t, l, payload(i, 200))
	}
	stop := errors.New("stop")
	n := 0
	err := l.Replay(0, func(wal.LSN, []byte) error {
		n++
		if n == 7 {
			return stop
		}
		return nil
	})
	if err != stop || n != 7 {
		t.Fatalf("Replay = %v after %d records, want stop after 7", err, n)
	}
	if got := MustReplay(t, l, 100); len(got) != 0 {
		t.Errorf("Replay past the end: %d records", len(got))
	}
}

// TestLog_ReplayFollow follows the log as the packer does: each Replay
// starts where the last one stopped (at a refused record or at the end),
// with appends in between, and earlier starting points still replay from
// exactly where they ask. Every record must come back once and in order.
func TestLog_ReplayFollow(t *testing.T) {
	for _, segSize := range []int64{1024, 64 << 20} {
		t.Run(fmt.Sprintf("segment=%d", segSize), func(t *testing.T) {
			l := MustOpen(t, t.TempDir(), wal.Options{SegmentSize: segSize})
			var want []record
			add := func(n int) {
				for range n {
					i := len(want)
					data := payload(i, 50+i%300)
					lsn := MustAppend(t, l, data)
					want = append(want, record{lsn, string(data)})
				}
			}
			stop := errors.New("round full")
			next := wal.LSN(1)
			for round, take := range []int{3, 1, 0, 7, 20, 2, 50, 5} {
				add(5 + round*3)
				var got []record
				err := l.Replay(next, func(lsn wal.LSN, rec []byte) error {
					if len(got) == take {
						return stop
					}
					got = append(got, record{lsn, string(rec)})
					return nil
				})
				if err != nil && err != stop {
					t.Fatalf("round %d: Replay: %v", round, err)
				}
				for i, r := range got {
					if w := want[int(next)-1+i]; r != w {
						t.Fatalf("round %d: record %d is LSN %d, want LSN %d", round, i, r.LSN, w.LSN)
					}
				}
				next += wal.LSN(len(got))
				// Replaying from an earlier point is unaffected by the hint.
				for _, from := range []wal.LSN{1, max(1, next/2), next} {
					if int(from) > len(want) {
						continue
					}
					if got := MustReplay(t, l, from); len(got) != len(want)-int(from)+1 || got[0] != want[from-1] {
						t.Fatalf("round %d: Replay(%d): %d records from LSN %d", round, from, len(got), got[0].LSN)
					}
				}
			}
		})
	}
}

func TestLog_Trim(t *testing.T) {
	dir := t.TempDir()
	opts := wal.Options{SegmentSize: 1024}
	l := MustOpen(t, dir, opts)
	for i := range 20 {
		MustAppend(t, l, payload(i, 300)) // 3 records per segment
	}
	nseg := len(segments(t, dir))

	// A Replay in progress keeps its segments until it is done.
	var during []record
	err := l.Replay(0, func(lsn wal.LSN, rec []byte) error {
		if lsn == 1 {
			if err := l.Trim(8); err != nil {
				t.Errorf("Trim: %v", err)
			}
		}
		during = append(during, record{lsn, string(rec)})
		return nil
	})
	if err != nil || len(during) != 20 {
		t.Fatalf("Replay during Trim: %v, %d records", err, len(during))
	}
	// Segments [1,3] and [4,6] are all below 8; [7,9] is not.
	if got := len(segments(t, dir)); got != nseg-2 {
		t.Errorf("after Trim(8): %d segments, want %d", got, nseg-2)
	}
	if got := MustReplay(t, l, 0); got[0].LSN != 7 || len(got) != 14 {
		t.Errorf("Replay(0) after Trim starts at %d with %d records, want 7 and 14", got[0].LSN, len(got))
	}
	// Trimming everything keeps the segment being written.
	if err := l.Trim(1000); err != nil {
		t.Fatal(err)
	}
	if got := len(segments(t, dir)); got != 1 {
		t.Errorf("after Trim(all): %d segments, want 1", got)
	}
	last := MustReplay(t, l, 0)
	l.Close()

	l = MustOpen(t, dir, opts)
	if got := MustReplay(t, l, 0); len(got) != len(last) || got[0] != last[0] {
		t.Errorf("after reopen Replay(0) = %d records, want %d from LSN %d", len(got), len(last), last[0].LSN)
	}
	if lsn := MustAppend(t, l, []byte("x")); lsn != 21 {
		t.Errorf("LSN after trim and reopen = %d, want 21", lsn)
	}
	if s := l.Stats(); s.FirstLSN != last[0].LSN || s.NextLSN != 22 {
		t.Errorf("Stats = %+v", s)
	}
}

// TestLog_Concurrent appends from many goroutines while another replays,
// and checks that every call got contiguous LSNs with its own records.
func TestLog_Concurrent(t *testing.T) {
	dir := t.TempDir()
	// Observe sees every group commit (runs on the writer goroutine).
	var seen wal.Commit
	var commits int
	var syncTime time.Duration
	var obsMu sync.Mutex
	observe := func(c wal.Commit) {
		obsMu.Lock()
		defer obsMu.Unlock()
		commits++
		seen.Appends += c.Appends
		seen.Records += c.Records
		seen.Bytes += c.Bytes
		syncTime += c.Sync
	}
	l := MustOpen(t, dir, wal.Options{SegmentSize: 64 << 10, Observe: observe})
	const workers, calls = 16, 60
	type ack struct {
		lsn wal.LSN
		ids []int
	}
	acks := make(chan ack, workers*calls)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for c := range calls {
				id := (w*calls + c) * 3
				n := 1 + c%3
				var recs [][]byte
				for k := range n {
					recs = append(recs, []byte(fmt.Sprintf("%d|%s", id+k, payload(id+k, 50+id%300))))
				}
				lsn, err := l.Append(context.Background(), recs...)
				if err != nil {
					t.Error(err)
					return
				}
				ids := make([]int, n)
				for k := range ids {
					ids[k] = id + k
				}
				acks <- ack{lsn, ids}
			}
		})
	}
	// A reader going alongside sees a growing, gap-free prefix.
	stop := make(chan struct{})
	var readerWG sync.WaitGroup
	readerWG.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			var next wal.LSN = 1
			err := l.Replay(0, func(lsn wal.LSN, rec []byte) error {
				if lsn != next {
					return fmt.Errorf("LSN %d, want %d", lsn, next)
				}
				next++
				return nil
			})
			if err != nil {
				t.Errorf("concurrent Replay: %v", err)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	readerWG.Wait()
	close(acks)

	got := MustReplay(t, l, 0)
	byLSN := make(map[wal.LSN]string, len(got))
	for _, r := range got {
		byLSN[r.LSN] = r.Data
	}
	n := 0
	for a := range acks {
		for k, id := range a.ids {
			want := fmt.Sprintf("%d|%s", id, payload(id, 50+a.ids[0]%300))
			if byLSN[a.lsn+wal.LSN(k)] != want {
				t.Fatalf("LSN %d: not record %d", a.lsn+wal.LSN(k), id)
			}
			n++
		}
	}
	if n != len(got) {
		t.Errorf("%d records acknowledged, %d in the log", n, len(got))
	}
	s := l.Stats()
	t.Logf("%d appends, %d records in %d group commits (%.1f records/sync), %d segments",
		s.Appends, s.Records, s.Syncs, s.RecordsPerSync(), s.Segments)
	obsMu.Lock()
	defer obsMu.Unlock()
	if uint64(commits) != s.Syncs || uint64(seen.Appends) != s.Appends || uint64(seen.Records) != s.Records || uint64(seen.Bytes) != s.Bytes {
		t.Errorf("observed %d commits %+v, stats %+v", commits, seen, s)
	}
	if syncTime <= 0 {
		t.Errorf("observed fdatasync time %v", syncTime)
	}
}

// TestLog_ReplayReadsOnlyDurable checks that Replay never sees bytes past
// the durable size, even though they are in the file.
func TestLog_ReplayReadsOnlyDurable(t *testing.T) {
	dir := t.TempDir()
	l := MustOpen(t, dir, wal.Options{})
	MustAppend(t, l, []byte("one"))
	// Bytes beyond the durable end (as a write in flight would leave).
	f, err := os.OpenFile(filepath.Join(dir, wal.SegmentName(1)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("\x03\x00\x00\x00garbage"))
	f.Close()
	if got := MustReplay(t, l, 0); len(got) != 1 || got[0].Data != "one" {
		t.Fatalf("Replay = %v", got)
	}
}

func TestStats_RecordsPerSync(t *testing.T) {
	tests := []struct {
		s    wal.Stats
		want float64
	}{
		{wal.Stats{}, 0},
		{wal.Stats{Records: 10, Syncs: 4}, 2.5},
	}
	for _, tt := range tests {
		if got := tt.s.RecordsPerSync(); got != tt.want {
			t.Errorf("%+v.RecordsPerSync() = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// readFile and writeFile are short helpers for damaging segments.
func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func writeFile(tb testing.TB, path string, b []byte) {
	tb.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
}
