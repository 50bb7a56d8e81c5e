package keyring

import (
	"bytes"
	"errors"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestOpen_DecompressionBomb seals (validly, with the right key) a small
// zstd frame that expands far beyond MaxPlaintext, with and without a
// declared content size: Open must refuse it without allocating it.
func TestOpen_DecompressionBomb(t *testing.T) {
	dk := NewDataKey()
	aad := AAD{Org: "o", Project: "p", Kind: "segment", ID: "bomb"}
	huge := make([]byte, MaxPlaintext+1<<20)
	var frames = map[string][]byte{}
	withSize, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	frames["ContentSize"] = withSize.EncodeAll(huge, nil)
	// A streamed frame has no content size in its header.
	var buf bytes.Buffer
	stream, err := zstd.NewWriter(&buf, zstd.WithWindowSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	stream.Write(huge)
	stream.Close()
	frames["Streamed"] = buf.Bytes()

	for name, frame := range frames {
		t.Run(name, func(t *testing.T) {
			if len(frame) > 1<<20 {
				t.Fatalf("bomb frame is %d bytes; want a small one", len(frame))
			}
			sealed := dk.sealCompressed(frame, aad)
			if _, err := dk.Open(sealed, aad); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Open(bomb) = %v, want ErrTooLarge", err)
			}
		})
	}
}

// TestOpen_CorruptFrame: authenticated bytes that are not zstd.
func TestOpen_CorruptFrame(t *testing.T) {
	dk := NewDataKey()
	aad := AAD{Kind: "segment"}
	sealed := dk.sealCompressed([]byte("definitely not a zstd frame"), aad)
	if _, err := dk.Open(sealed, aad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open(non-zstd) = %v, want ErrCorrupt", err)
	}
}
