package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/veil-privacy/veil"
)

// BodyLimits bound what one request may make the server read and inflate.
type BodyLimits struct {
	MaxCompressed int64 // bytes read from the wire when Content-Encoding is gzip
	MaxDecoded    int64 // bytes after decompression (or read, when not compressed)
}

// readBody reads a request body within lim. A gzip body is inflated as a
// stream and abandoned as soon as the output passes MaxDecoded, so a
// compression bomb costs at most MaxDecoded bytes of memory and the matching
// CPU, never more.
func readBody(r *http.Request, lim BodyLimits, what string) ([]byte, error) {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	var src io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		if r.ContentLength > lim.MaxDecoded {
			return nil, tooLarge(what, lim.MaxDecoded)
		}
	case "gzip", "x-gzip":
		if r.ContentLength > lim.MaxCompressed {
			return nil, tooLarge(what+" (compressed)", lim.MaxCompressed)
		}
		// The wire bytes are small (bounded by MaxCompressed); reading
		// them first lets the inflater read from memory and lets the
		// gzip trailer size the output buffer.
		wire, err := readLimited(getBuf(r.ContentLength, lim.MaxCompressed), r.Body, lim.MaxCompressed)
		defer putBuf(wire)
		if errors.Is(err, errTooLarge) {
			return nil, tooLarge(what+" (compressed)", lim.MaxCompressed)
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge(what+" (compressed)", mbe.Limit)
			}
			return nil, veil.Errorf(veil.EINVALID, "Could not read the request body.")
		}
		b, err := gunzip(wire, lim.MaxDecoded)
		switch {
		case errors.Is(err, errTooLarge):
			return nil, tooLarge(what+" (decompressed)", lim.MaxDecoded)
		case err != nil:
			return nil, veil.Errorf(veil.EINVALID, "Body is not valid gzip.")
		}
		return b, nil
	default:
		return nil, veil.Errorf(veil.EUNSUPPORTED, "Content-Encoding must be gzip or absent.")
	}
	b, err := readLimited(getBuf(r.ContentLength, lim.MaxDecoded), src, lim.MaxDecoded)
	if errors.Is(err, errTooLarge) {
		return nil, tooLarge(what, lim.MaxDecoded)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(what, mbe.Limit)
		}
		return nil, veil.Errorf(veil.EINVALID, "Could not read the request body.")
	}
	return b, nil
}

// checkContentType accepts JSON and text/plain (what sendBeacon and
// preflight-free browser requests send) and an absent type.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return veil.Errorf(veil.EUNSUPPORTED, "Content-Type is malformed.")
	}
	switch mt {
	case "application/json", "text/plain", "application/x-json", "application/octet-stream":
		return nil
	}
	return veil.Errorf(veil.EUNSUPPORTED, "Content-Type must be application/json or text/plain.")
}

var errTooLarge = errors.New("too large")

// gzipReaders are reused: a fresh reader allocates its window and tables,
// which costs more than inflating a typical 4 KB replay upload.
var gzipReaders sync.Pool // *gzip.Reader

// gunzip inflates one gzip member from wire, failing with errTooLarge as
// soon as the output passes limit bytes: a bomb costs at most limit bytes of
// memory and the CPU to produce them.
func gunzip(wire []byte, limit int64) ([]byte, error) {
	src := bytes.NewReader(wire) // an io.ByteReader: the inflater adds no bufio
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(src)
	} else {
		err = zr.Reset(src)
	}
	if err != nil {
		return nil, err
	}
	defer gzipReaders.Put(zr)
	zr.Multistream(false)
	// The trailer's ISIZE (size mod 2^32) sizes the buffer, believed only
	// up to a ratio real JSON reaches, so a forged trailer cannot make a
	// small request allocate the whole limit.
	want := int64(4096)
	if n := len(wire); n >= 18 {
		isize := int64(binary.LittleEndian.Uint32(wire[n-4:]))
		want = min(max(want, isize), 64*int64(n)+4096)
	}
	return readLimited(getBuf(want, limit), zr, limit)
}

// readLimited appends all of r to dst, failing with errTooLarge past max
// bytes; it never reads more than max+1 bytes from r.
func readLimited(dst []byte, r io.Reader, max int64) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)] // grow
		}
		n, err := r.Read(dst[len(dst):int(min(int64(cap(dst)), max+1))])
		dst = dst[:len(dst)+n]
		if int64(len(dst)) > max {
			return nil, errTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// bodyBufs recycles request body buffers: a replay upload inflates to
// tens of KB, and allocating them anew for each request keeps the garbage
// collector busy. Buffers over maxPooledBody are left to it.
var bodyBufs sync.Pool // *[]byte

const maxPooledBody = 1 << 20

// getBuf returns an empty buffer with room for hint bytes (when the hint
// is known and at most max).
func getBuf(hint, max int64) []byte {
	var b []byte
	if p, _ := bodyBufs.Get().(*[]byte); p != nil {
		b = (*p)[:0]
	}
	if hint > 0 && hint <= max && int64(cap(b)) < hint+1 {
		b = make([]byte, 0, hint+1) // +1: the read that sees EOF
	}
	return b
}

// putBuf gives b back for reuse; nothing may use b afterwards.
func putBuf(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledBody {
		return
	}
	b = b[:0]
	bodyBufs.Put(&b)
}

// releaseBody returns a body from readBody to the pool once the handler
// holds no reference into it (sealed copies and parsed strings are fine).
func releaseBody(b []byte) { putBuf(b) }

func tooLarge(what string, limit int64) error {
	return veil.Errorf(veil.ETOOLARGE, "%s is larger than the limit of %s.", what, humanBytes(limit))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KB"
	}
	return itoa(n) + " bytes"
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
