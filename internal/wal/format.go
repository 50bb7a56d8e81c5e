package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// On-disk format, little endian.
//
//	segment header (24 bytes): "VWAL" | version u32 (=1) | base LSN u64 | reserved u32 (=0) | CRC32C u32 of the previous 20 bytes
//	record frame:              length u32 | CRC32C u32 of (length bytes || payload) | payload
const (
	headerSize  = 24
	frameHeader = 8
	version     = 1
	segExt      = ".wal"
)

var (
	magic      = [4]byte{'V', 'W', 'A', 'L'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// encodeHeader returns the header of a segment whose first record is base.
func encodeHeader(base LSN) []byte {
	b := make([]byte, headerSize)
	copy(b, magic[:])
	binary.LittleEndian.PutUint32(b[4:], version)
	binary.LittleEndian.PutUint64(b[8:], uint64(base))
	binary.LittleEndian.PutUint32(b[20:], crc32.Checksum(b[:20], castagnoli))
	return b
}

// decodeHeader checks a segment header and returns its base LSN.
func decodeHeader(b []byte) (LSN, error) {
	if len(b) < headerSize {
		return 0, errors.New("short segment header")
	}
	if [4]byte(b[:4]) != magic {
		return 0, errors.New("bad magic: not a Veil WAL segment")
	}
	if crc32.Checksum(b[:20], castagnoli) != binary.LittleEndian.Uint32(b[20:]) {
		return 0, errors.New("segment header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != version {
		return 0, fmt.Errorf("unsupported segment version %d", v)
	}
	base := LSN(binary.LittleEndian.Uint64(b[8:]))
	if base == 0 {
		return 0, errors.New("segment base LSN is 0")
	}
	return base, nil
}

// frameCRC is the checksum stored in a frame: CRC32C over the 4 length bytes
// and the payload, so a damaged length is caught as surely as damaged data.
func frameCRC(lenBytes, payload []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, lenBytes), castagnoli, payload)
}

// appendFrame appends the frame of rec to dst.
func appendFrame(dst, rec []byte) []byte {
	var h [frameHeader]byte
	binary.LittleEndian.PutUint32(h[:4], uint32(len(rec)))
	binary.LittleEndian.PutUint32(h[4:], frameCRC(h[:4], rec))
	dst = append(dst, h[:]...)
	return append(dst, rec...)
}

// segmentName is the file name of the segment whose first record is base;
// zero-padded so that lexical order is LSN order.
func segmentName(base LSN) string {
	return fmt.Sprintf("%020d%s", uint64(base), segExt)
}

// parseSegmentName returns the base LSN encoded in a segment file name.
func parseSegmentName(name string) (LSN, bool) {
	s, ok := strings.CutSuffix(filepath.Base(name), segExt)
	if !ok || len(s) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return LSN(n), true
}

// frameError says why a frame could not be read and whether the cause is
// running out of bytes (a write cut short) rather than bad contents.
type frameError struct {
	reason string
	short  bool
}

func (e *frameError) Error() string { return e.reason }

// frameReader reads frames from one segment, from just after its header up
// to a fixed limit (the segment's durable size). It never allocates a
// payload buffer larger than maxRecord, nor larger than the bytes left.
type frameReader struct {
	r         io.ReaderAt
	off, end  int64
	maxRecord int
	buf       []byte // window of file bytes, refilled by fill
	bufOff    int64  // file offset of buf[0]
	payload   []byte // reused payload buffer

	// alloc, if set, is called with every payload buffer size allocated
	// (a test hook proving length fields are bounded before allocation).
	alloc func(n int)
}

const readChunk = 256 << 10

func (l *Log) newFrameReader(r io.ReaderAt, end int64) *frameReader {
	return &frameReader{r: r, off: headerSize, end: end, maxRecord: l.opts.MaxRecord, bufOff: headerSize, alloc: l.opts.allocHook}
}

// view returns n bytes at file offset off, reading through a window so that
// a run of small frames costs one read per readChunk bytes. The result is
// valid until the next call.
func (fr *frameReader) view(off int64, n int) ([]byte, error) {
	if off >= fr.bufOff && off+int64(n) <= fr.bufOff+int64(len(fr.buf)) {
		i := off - fr.bufOff
		return fr.buf[i : i+int64(n)], nil
	}
	if n > readChunk {
		// Large payload: read it straight into the payload buffer.
		if cap(fr.payload) < n {
			if fr.alloc != nil {
				fr.alloc(n)
			}
			fr.payload = make([]byte, n)
		}
		p := fr.payload[:n]
		if m, err := fr.r.ReadAt(p, off); m < n {
			return nil, err
		}
		return p, nil
	}
	size := min(int64(readChunk), fr.end-off)
	if fr.buf == nil {
		// Sized by the file, never by a length field: the first window
		// is the largest one needed.
		fr.buf = make([]byte, size)
	}
	fr.buf = fr.buf[:size]
	if m, err := fr.r.ReadAt(fr.buf, off); m < len(fr.buf) {
		fr.buf = fr.buf[:0]
		return nil, err
	}
	fr.bufOff = off
	return fr.buf[:n], nil
}

// next returns the offset and payload of the next frame. At the limit it
// returns io.EOF; a frame that does not verify yields a *frameError and the
// reader stays at its offset. The payload is valid until the next call.
// An I/O error is returned as is.
func (fr *frameReader) next() (int64, []byte, error) {
	off := fr.off
	if off >= fr.end {
		return off, nil, io.EOF
	}
	if fr.end-off < frameHeader {
		return off, nil, &frameError{reason: "truncated frame header", short: true}
	}
	h, err := fr.view(off, frameHeader)
	if err != nil {
		return off, nil, err
	}
	var lenBytes [4]byte
	copy(lenBytes[:], h[:4])
	n := binary.LittleEndian.Uint32(h[:4])
	sum := binary.LittleEndian.Uint32(h[4:])
	if uint64(n) > uint64(fr.maxRecord) {
		return off, nil, &frameError{reason: fmt.Sprintf("record length %d exceeds maximum %d", n, fr.maxRecord)}
	}
	if int64(n) > fr.end-off-frameHeader {
		return off, nil, &frameError{reason: fmt.Sprintf("record length %d runs past end of segment", n), short: true}
	}
	p, err := fr.view(off+frameHeader, int(n))
	if err != nil {
		return off, nil, err
	}
	if frameCRC(lenBytes[:], p) != sum {
		return off, nil, &frameError{reason: "record checksum mismatch"}
	}
	fr.off = off + frameHeader + int64(n)
	return off, p, nil
}

// seek moves the reader to file offset off, the start of a frame.
func (fr *frameReader) seek(off int64) {
	fr.off = off
}

// skip moves past the frame at the current offset without reading or
// verifying its payload (used by Replay to reach its start LSN). The frame
// was verified when the log was opened or written.
func (fr *frameReader) skip() error {
	if fr.end-fr.off < frameHeader {
		return &frameError{reason: "truncated frame header", short: true}
	}
	h, err := fr.view(fr.off, frameHeader)
	if err != nil {
		return err
	}
	n := int64(binary.LittleEndian.Uint32(h[:4]))
	if n > int64(fr.maxRecord) || n > fr.end-fr.off-frameHeader {
		return &frameError{reason: fmt.Sprintf("bad record length %d", n)}
	}
	fr.off += frameHeader + n
	return nil
}
