package wal_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/wal"
)

// threeSegments writes records 1–9 of 300 bytes, three per segment, and
// returns the paths of the three segments.
func threeSegments(t *testing.T, dir string) [3]string {
	t.Helper()
	l := MustOpen(t, dir, wal.Options{SegmentSize: 1024})
	for i := range 9 {
		MustAppend(t, l, payload(i, 300))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return [3]string{
		filepath.Join(dir, wal.SegmentName(1)),
		filepath.Join(dir, wal.SegmentName(4)),
		filepath.Join(dir, wal.SegmentName(7)),
	}
}

const frame = wal.FrameHeader + 300 // one test record on disk

func TestOpen_TornTail(t *testing.T) {
	tests := []struct {
		name          string
		damage        func(t *testing.T, dir string, seg [3]string)
		wantRecords   int
		wantTruncated int64
	}{
		{"CleanStop", func(*testing.T, string, [3]string) {}, 9, 0},
		{"PartialFrameHeader", func(t *testing.T, _ string, seg [3]string) {
			appendBytes(t, seg[2], []byte{1, 2, 3, 4, 5})
		}, 9, 5},
		{"PartialPayload", func(t *testing.T, _ string, seg [3]string) {
			appendBytes(t, seg[2], append(frameHeaderFor(300, 0), make([]byte, 100)...))
		}, 9, 108},
		{"CutLastRecord", func(t *testing.T, _ string, seg [3]string) {
			truncate(t, seg[2], -10)
		}, 8, frame - 10},
		{"ChecksumLastRecord", func(t *testing.T, _ string, seg [3]string) {
			flip(t, seg[2], wal.HeaderSize+2*frame+100)
		}, 8, frame},
		{"LengthOverMaxRecord", func(t *testing.T, _ string, seg [3]string) {
			appendBytes(t, seg[2], frameHeaderFor(0xffffffff, 0))
		}, 9, 8},
		{"ZeroedTail", func(t *testing.T, _ string, seg [3]string) {
			appendBytes(t, seg[2], make([]byte, 8192))
		}, 9, 8192},
		{"AllRecordsOfLastSegmentTorn", func(t *testing.T, _ string, seg [3]string) {
			flip(t, seg[2], wal.HeaderSize+3)
		}, 6, 3 * frame},
		{"TornSegmentHeader", func(t *testing.T, dir string, _ [3]string) {
			writeFile(t, filepath.Join(dir, wal.SegmentName(10)), []byte("VWAL\x01"))
		}, 9, 5},
		{"EmptySegmentFile", func(t *testing.T, dir string, _ [3]string) {
			writeFile(t, filepath.Join(dir, wal.SegmentName(10)), nil)
		}, 9, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			seg := threeSegments(t, dir)
			tt.damage(t, dir, seg)
			l := MustOpen(t, dir, wal.Options{SegmentSize: 1024})
			got := MustReplay(t, l, 0)
			if len(got) != tt.wantRecords {
				t.Fatalf("%d records after Open, want %d", len(got), tt.wantRecords)
			}
			for i, r := range got {
				if r.LSN != wal.LSN(i+1) || r.Data != string(payload(i, 300)) {
					t.Fatalf("record %d: LSN %d or payload differs", i, r.LSN)
				}
			}
			if s := l.Stats(); s.TruncatedBytes != tt.wantTruncated {
				t.Errorf("TruncatedBytes = %d, want %d", s.TruncatedBytes, tt.wantTruncated)
			}
			// The log goes on from the last good record, and a second Open
			// finds nothing to repair.
			if lsn := MustAppend(t, l, payload(99, 300)); lsn != wal.LSN(tt.wantRecords+1) {
				t.Errorf("next LSN = %d, want %d", lsn, tt.wantRecords+1)
			}
			l.Close()
			l = MustOpen(t, dir, wal.Options{SegmentSize: 1024})
			if s := l.Stats(); s.TruncatedBytes != 0 || s.NextLSN != wal.LSN(tt.wantRecords+2) {
				t.Errorf("second Open: %+v", s)
			}
		})
	}
}

func TestOpen_Corrupt(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string, seg [3]string)
		want   string // in the error, beside the file name
	}{
		{"ChecksumNonLastSegment", func(t *testing.T, _ string, seg [3]string) {
			flip(t, seg[0], wal.HeaderSize+frame+50)
		}, "00000000000000000001.wal offset 332: record checksum mismatch"},
		{"LengthNonLastSegment", func(t *testing.T, _ string, seg [3]string) {
			flip(t, seg[1], wal.HeaderSize+frame+3)
		}, "00000000000000000004.wal offset 332: record length"},
		{"TornTailNonLastSegment", func(t *testing.T, _ string, seg [3]string) {
			appendBytes(t, seg[1], []byte{1, 2, 3})
		}, "00000000000000000004.wal offset 948: truncated frame header"},
		{"HeaderMagic", func(t *testing.T, _ string, seg [3]string) {
			flip(t, seg[1], 0)
		}, "00000000000000000004.wal offset 0: bad magic"},
		{"HeaderChecksum", func(t *testing.T, _ string, seg [3]string) {
			flip(t, seg[2], 10)
		}, "00000000000000000007.wal offset 0: segment header checksum"},
		{"HeaderBaseMismatch", func(t *testing.T, dir string, seg [3]string) {
			if err := os.Rename(seg[2], filepath.Join(dir, wal.SegmentName(8))); err != nil {
				t.Fatal(err)
			}
		}, "00000000000000000008.wal offset 0: header says base LSN 7"},
		{"MissingSegment", func(t *testing.T, _ string, seg [3]string) {
			if err := os.Remove(seg[1]); err != nil {
				t.Fatal(err)
			}
		}, "00000000000000000007.wal starts at LSN 7 but"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			seg := threeSegments(t, dir)
			tt.damage(t, dir, seg)
			_, err := wal.Open(dir, wal.Options{SegmentSize: 1024, Logger: quiet})
			if !errors.Is(err, wal.ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open error = %v\nwant ErrCorrupt with %q", err, tt.want)
			}
		})
	}
}

// TestOpen_CorruptFarFromTail: bad bytes in the last segment followed by
// more than one group commit's worth of bytes cannot be a torn write.
func TestOpen_CorruptFarFromTail(t *testing.T) {
	dir := t.TempDir()
	opts := wal.Options{MaxRecord: 1024, NoSync: true}
	l := MustOpen(t, dir, opts)
	rec := make([]byte, 1024)
	for range 5 << 10 { // 5 MiB, above the 4 MiB group limit
		MustAppend(t, l, rec)
	}
	l.Close()
	flip(t, filepath.Join(dir, wal.SegmentName(1)), wal.HeaderSize+100)
	_, err := wal.Open(dir, opts)
	if !errors.Is(err, wal.ErrCorrupt) || !strings.Contains(err.Error(), "not a torn write") {
		t.Fatalf("Open error = %v, want ErrCorrupt, not a torn write", err)
	}
}

// TestReplay_Corrupt: damage after Open is found by Replay.
func TestReplay_Corrupt(t *testing.T) {
	dir := t.TempDir()
	l := MustOpen(t, dir, wal.Options{})
	MustAppend(t, l, payload(1, 300), payload(2, 300))
	flip(t, filepath.Join(dir, wal.SegmentName(1)), wal.HeaderSize+frame+20)
	var n int
	err := l.Replay(0, func(wal.LSN, []byte) error { n++; return nil })
	if !errors.Is(err, wal.ErrCorrupt) || n != 1 {
		t.Fatalf("Replay = %v after %d records, want ErrCorrupt after 1", err, n)
	}
}

func frameHeaderFor(n, crc uint32) []byte {
	b := make([]byte, wal.FrameHeader)
	binary.LittleEndian.PutUint32(b, n)
	binary.LittleEndian.PutUint32(b[4:], crc)
	return b
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	writeFile(t, path, append(readFile(t, path), b...))
}

func flip(t *testing.T, path string, off int) {
	t.Helper()
	b := readFile(t, path)
	b[off] ^= 0x40
	writeFile(t, path, b)
}

// truncate shortens path by -delta bytes.
func truncate(t *testing.T, path string, delta int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()+delta); err != nil {
		t.Fatal(err)
	}
}
