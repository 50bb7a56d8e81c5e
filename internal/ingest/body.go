package ingest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

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
		wire := &limitedReader{r: r.Body, n: lim.MaxCompressed}
		zr, err := gzip.NewReader(wire)
		if err != nil {
			if wire.exceeded {
				return nil, tooLarge(what+" (compressed)", lim.MaxCompressed)
			}
			return nil, veil.Errorf(veil.EINVALID, "Body is not valid gzip.")
		}
		defer zr.Close()
		zr.Multistream(false)
		b, err := readLimited(zr, lim.MaxDecoded)
		switch {
		case wire.exceeded:
			return nil, tooLarge(what+" (compressed)", lim.MaxCompressed)
		case errors.Is(err, errTooLarge):
			return nil, tooLarge(what+" (decompressed)", lim.MaxDecoded)
		case err != nil:
			return nil, veil.Errorf(veil.EINVALID, "Body is not valid gzip.")
		}
		return b, nil
	default:
		return nil, veil.Errorf(veil.EUNSUPPORTED, "Content-Encoding must be gzip or absent.")
	}
	b, err := readLimited(src, lim.MaxDecoded)
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

// readLimited reads all of r, failing with errTooLarge past max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

// limitedReader is io.LimitedReader that remembers hitting the limit.
type limitedReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		l.exceeded = true
		return 0, errors.New("compressed body over limit")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

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
