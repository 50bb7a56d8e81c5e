package wal_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"path/filepath"
	"testing"

	"github.com/veil-privacy/veil/internal/wal"
)

// FuzzOpenSegment opens a log whose only segment holds arbitrary bytes.
// Open either fails with ErrCorrupt or succeeds, and then every record
// Replay returns is, byte for byte, a frame of the input whose checksum
// verifies, in order from the header; no read buffer is ever larger than
// MaxRecord; and the log accepts appends.
func FuzzOpenSegment(f *testing.F) {
	const maxRecord = 4096
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, wal.SegmentName(1)), data)
		opts := wal.Options{MaxRecord: maxRecord, NoSync: true, Logger: quiet}
		wal.SetAllocHook(&opts, func(n int) {
			if n > maxRecord {
				t.Fatalf("allocated %d bytes for a record, MaxRecord is %d", n, maxRecord)
			}
		})
		l, err := wal.Open(dir, opts)
		if err != nil {
			if !errors.Is(err, wal.ErrCorrupt) {
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			}
			return
		}
		defer l.Close()
		off := wal.HeaderSize
		var n int
		err = l.Replay(0, func(lsn wal.LSN, rec []byte) error {
			if lsn != wal.LSN(1+n) {
				t.Fatalf("record %d has LSN %d", n, lsn)
			}
			if len(rec) > maxRecord {
				t.Fatalf("record of %d bytes", len(rec))
			}
			h := data[off : off+wal.FrameHeader]
			sum := crc32.Update(crc32.Checksum(h[:4], castagnoli), castagnoli, rec)
			if binary.LittleEndian.Uint32(h) != uint32(len(rec)) || binary.LittleEndian.Uint32(h[4:]) != sum ||
				!bytes.Equal(data[off+wal.FrameHeader:off+wal.FrameHeader+len(rec)], rec) {
				t.Fatalf("record %d at offset %d is not the verified frame there", n, off)
			}
			off += wal.FrameHeader + len(rec)
			n++
			return nil
		})
		if err != nil {
			t.Fatalf("Replay after Open: %v", err)
		}
		lsn, err := l.Append(t.Context(), []byte("after"))
		if err != nil || lsn != wal.LSN(n+1) {
			t.Fatalf("Append = %d, %v; want LSN %d", lsn, err, n+1)
		}
	})
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fuzzSeeds are real segments: whole, cut and with a huge length field.
func fuzzSeeds(tb testing.TB) [][]byte {
	dir := tb.TempDir()
	l, err := wal.Open(dir, wal.Options{NoSync: true, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range 5 {
		if _, err := l.Append(tb.Context(), payload(i, i*37), []byte{}); err != nil {
			tb.Fatal(err)
		}
	}
	l.Close()
	seg := readFile(tb, filepath.Join(dir, wal.SegmentName(1)))
	huge := append(bytes.Clone(seg), 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0)
	return [][]byte{seg, seg[:wal.HeaderSize], seg[:len(seg)/2], seg[:10], huge, nil}
}
