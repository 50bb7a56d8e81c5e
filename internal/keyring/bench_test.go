package keyring_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/veil-privacy/veil/internal/keyring"
)

// benchSize is a typical packed segment: 256 KB of rrweb JSON.
const benchSize = 256 << 10

// BenchmarkSealOpen seals and opens a 256 KB rrweb-like JSON object.
// Bytes/s count plaintext bytes per seal+open round trip.
func BenchmarkSealOpen(b *testing.B) {
	data := RRWebJSON(benchSize)
	dk := keyring.NewDataKey()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		sealed, err := dk.Seal(data, testAAD)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dk.Open(sealed, testAAD); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawZstdAESGCM is the baseline: the same zstd level and AES-GCM,
// called directly with no format, AAD encoding, pooling or limits.
func BenchmarkRawZstdAESGCM(b *testing.B) {
	data := RRWebJSON(benchSize)
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)))
	dec, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rand.Read(nonce)
		ct := gcm.Seal(nil, nonce, enc.EncodeAll(data, nil), nil)
		compressed, err := gcm.Open(nil, nonce, ct, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dec.DecodeAll(compressed, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeal and BenchmarkOpen split the round trip.
func BenchmarkSeal(b *testing.B) {
	data := RRWebJSON(benchSize)
	dk := keyring.NewDataKey()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dk.Seal(data, testAAD); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	data := RRWebJSON(benchSize)
	dk := keyring.NewDataKey()
	sealed := MustSeal(b, dk, data, testAAD)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dk.Open(sealed, testAAD); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSealOpenParallel measures the shared encoder and decoders
// under concurrent use.
func BenchmarkSealOpenParallel(b *testing.B) {
	data := RRWebJSON(benchSize)
	dk := keyring.NewDataKey()
	b.SetBytes(int64(len(data)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sealed, err := dk.Seal(data, testAAD)
			if err == nil {
				_, err = dk.Open(sealed, testAAD)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkBlindIndex(b *testing.B) {
	dk := keyring.NewDataKey()
	for b.Loop() {
		dk.BlindIndex("email", "ada@example.com")
	}
}

func BenchmarkUnwrap(b *testing.B) {
	m := keyring.NewMaster()
	w, _ := m.Wrap(keyring.NewDataKey(), projectAAD)
	for b.Loop() {
		if _, err := m.Unwrap(w, projectAAD); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSealFast is Seal at zstd's fastest level (the ingest log's).
func BenchmarkSealFast(b *testing.B) {
	data := RRWebJSON(benchSize)
	dk := keyring.NewDataKey()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dk.SealFast(data, testAAD); err != nil {
			b.Fatal(err)
		}
	}
}
