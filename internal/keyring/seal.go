package keyring

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Sealed object format; see the package documentation. The version byte
// also names the codec, so Open reads every version whatever sealed it.
const (
	sealVersion   = 0x01 // zstd
	sealVersionS2 = 0x02 // S2 block format
	sealHeaderLen = 1
	// SealOverhead is the smallest sealed object: header, nonce and tag
	// (the zstd frame adds a few bytes more).
	SealOverhead = sealHeaderLen + nonceSize + tagSize
)

// MaxPlaintext is the largest plaintext Seal accepts and Open returns:
// 64 MiB, far above a session's segment or a pack of events. OpenLimit
// takes a tighter limit.
const MaxPlaintext = 64 << 20

// encoder is shared: EncodeAll is safe for concurrent use and keeps a pool
// of per-goroutine state. CRC is off because GCM already authenticates.
var encoder = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderCRC(false),
		zstd.WithZeroFrames(true),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
	)
	if err != nil {
		panic("keyring: zstd encoder: " + err.Error())
	}
	return enc
})

// fastEncoder is for short-lived objects (the ingest write-ahead log),
// where sealing speed matters more than size. Open reads both.
var fastEncoder = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderCRC(false),
		zstd.WithZeroFrames(true),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
	)
	if err != nil {
		panic("keyring: zstd encoder: " + err.Error())
	}
	return enc
})

// decoders holds shared decoders by output cap; DecodeAll is safe for
// concurrent use. Caps are powers of two (see decoderFor), so there are
// at most a few dozen however many limits callers pass.
var decoders sync.Map // uint64 -> *zstd.Decoder

// decoderFor returns a decoder that refuses to produce more than the
// smallest power of two >= limit; OpenLimit checks the exact limit after.
func decoderFor(limit int64) (*zstd.Decoder, error) {
	capacity := uint64(1) << bits.Len64(uint64(limit-1))
	if d, ok := decoders.Load(capacity); ok {
		return d.(*zstd.Decoder), nil
	}
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0), // GOMAXPROCS concurrent DecodeAll calls
		zstd.WithDecoderMaxMemory(capacity),
	)
	if err != nil {
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	if prev, loaded := decoders.LoadOrStore(capacity, d); loaded {
		d.Close()
		return prev.(*zstd.Decoder), nil
	}
	return d, nil
}

// scratch pools the buffers that hold compressed plaintext between zstd
// and GCM. Buffers above maxPooled are dropped rather than kept.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

const maxPooled = 4 << 20

func putScratch(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		scratch.Put(b)
	}
}

// Seal compresses plaintext with zstd and encrypts it with AES-256-GCM
// under dk's sealing subkey and a random nonce, bound to aad. plaintext
// may be empty; it must not exceed MaxPlaintext (ErrTooLarge).
func (dk *DataKey) Seal(plaintext []byte, aad AAD) ([]byte, error) {
	return dk.seal(encoder(), plaintext, aad)
}

// SealFast is Seal with zstd's fastest level: about twice the speed for a
// somewhat larger output. Use it for objects that live briefly (the
// ingest log) or are recompressed later. Open reads both.
func (dk *DataKey) SealFast(plaintext []byte, aad AAD) ([]byte, error) {
	return dk.seal(fastEncoder(), plaintext, aad)
}

// SealS2 is Seal with S2 (klauspost/compress/s2) instead of zstd: on
// rrweb JSON about a fifth of SealFast's instructions for an output about
// 40 % larger. It is for the ingest request path, where CPU per request
// bounds throughput. Open reads it like the others.
func (dk *DataKey) SealS2(plaintext []byte, aad AAD) ([]byte, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("seal %s: %d bytes, max %d: %w", aad, len(plaintext), MaxPlaintext, ErrTooLarge)
	}
	buf := scratch.Get().(*[]byte)
	defer putScratch(buf)
	if n := s2.MaxEncodedLen(len(plaintext)); cap(*buf) < n {
		*buf = make([]byte, n)
	}
	*buf = s2.Encode((*buf)[:cap(*buf)], plaintext)
	return dk.sealCompressed(sealVersionS2, *buf, aad), nil
}

func (dk *DataKey) seal(enc *zstd.Encoder, plaintext []byte, aad AAD) ([]byte, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("seal %s: %d bytes, max %d: %w", aad, len(plaintext), MaxPlaintext, ErrTooLarge)
	}
	buf := scratch.Get().(*[]byte)
	defer putScratch(buf)
	*buf = enc.EncodeAll(plaintext, (*buf)[:0])
	return dk.sealCompressed(sealVersion, *buf, aad), nil
}

// sealCompressed encrypts already-compressed bytes into a fresh slice
// under the given format version (which names the codec).
func (dk *DataKey) sealCompressed(version byte, compressed []byte, aad AAD) []byte {
	out := make([]byte, sealHeaderLen+nonceSize, sealHeaderLen+nonceSize+len(compressed)+tagSize)
	out[0] = version
	nonce := out[sealHeaderLen:]
	rand.Read(nonce)
	var adBuf [128]byte
	ad := aad.appendTo(append(adBuf[:0], out[:sealHeaderLen]...))
	return dk.dsec().seal.Seal(out, nonce, compressed, ad)
}

// Open authenticates, decrypts and decompresses an object sealed by Seal
// with the same key and aad. Errors wrap ErrTruncated, ErrUnknownVersion,
// ErrAuth (wrong key, wrong aad, tampered), ErrTooLarge (over
// MaxPlaintext) or ErrCorrupt.
func (dk *DataKey) Open(sealed []byte, aad AAD) ([]byte, error) {
	return dk.OpenLimit(sealed, aad, MaxPlaintext)
}

// OpenLimit is Open with a smaller cap on the decompressed size (in bytes,
// at least 1), for callers that know their objects are small; a larger
// plaintext fails with ErrTooLarge before it is fully allocated.
func (dk *DataKey) OpenLimit(sealed []byte, aad AAD, limit int64) ([]byte, error) {
	if limit < 1 {
		return nil, fmt.Errorf("open %s: limit %d: %w", aad, limit, ErrTooLarge)
	}
	buf := scratch.Get().(*[]byte)
	defer putScratch(buf)
	compressed, err := dk.openCompressed(sealed, aad, (*buf)[:0])
	if err != nil {
		return nil, err
	}
	*buf = compressed // keep a grown buffer for the pool
	if sealed[0] == sealVersionS2 {
		return openS2(compressed, aad, limit)
	}
	dec, err := decoderFor(limit)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", aad, err)
	}
	plain, err := dec.DecodeAll(compressed, nil)
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) || int64(len(plain)) > limit {
		return nil, fmt.Errorf("open %s: over %d bytes: %w", aad, limit, ErrTooLarge)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w (%v)", aad, ErrCorrupt, err)
	}
	if plain == nil {
		plain = []byte{}
	}
	return plain, nil
}

// openS2 decodes an S2 block after checking the length it claims, so a
// hostile object cannot make Open allocate more than limit bytes.
func openS2(compressed []byte, aad AAD, limit int64) ([]byte, error) {
	n, err := s2.DecodedLen(compressed)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w (%v)", aad, ErrCorrupt, err)
	}
	if int64(n) > limit || n > MaxPlaintext {
		return nil, fmt.Errorf("open %s: over %d bytes: %w", aad, limit, ErrTooLarge)
	}
	plain, err := s2.Decode(make([]byte, n), compressed)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w (%v)", aad, ErrCorrupt, err)
	}
	return plain, nil
}

// openCompressed checks the header, authenticates and decrypts into dst.
func (dk *DataKey) openCompressed(sealed []byte, aad AAD, dst []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, fmt.Errorf("open %s: empty: %w", aad, ErrTruncated)
	}
	if sealed[0] != sealVersion && sealed[0] != sealVersionS2 {
		return nil, fmt.Errorf("open %s: format version 0x%02x: %w", aad, sealed[0], ErrUnknownVersion)
	}
	if len(sealed) < SealOverhead {
		return nil, fmt.Errorf("open %s: %d bytes, want at least %d: %w", aad, len(sealed), SealOverhead, ErrTruncated)
	}
	var adBuf [128]byte
	ad := aad.appendTo(append(adBuf[:0], sealed[:sealHeaderLen]...))
	nonce := sealed[sealHeaderLen : sealHeaderLen+nonceSize]
	out, err := dk.dsec().seal.Open(dst, nonce, sealed[sealHeaderLen+nonceSize:], ad)
	if err != nil {
		return nil, fmt.Errorf("open %s with data key %s: %w", aad, dk.ID(), ErrAuth)
	}
	return out, nil
}
