package keyring

import (
	"bytes"
	"errors"
	"testing"

	"github.com/klauspost/compress/s2"
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
			sealed := dk.sealCompressed(sealVersion, frame, aad)
			if _, err := dk.Open(sealed, aad); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Open(bomb) = %v, want ErrTooLarge", err)
			}
		})
	}
}

// TestOpen_S2Bomb: a validly sealed S2 block that claims (or really has)
// a length over the limit is refused before its output is allocated.
func TestOpen_S2Bomb(t *testing.T) {
	dk := NewDataKey()
	aad := AAD{Org: "o", Project: "p", Kind: "segment", ID: "bomb"}
	real := s2.Encode(nil, make([]byte, MaxPlaintext+1<<20)) // zeros: a few KB
	// A header alone: uvarint length 1 GiB, no data.
	var claim []byte
	for v := uint64(1 << 30); ; v >>= 7 {
		if v < 0x80 {
			claim = append(claim, byte(v))
			break
		}
		claim = append(claim, byte(v)|0x80)
	}
	for name, block := range map[string][]byte{"Real": real, "Claimed": claim} {
		t.Run(name, func(t *testing.T) {
			if len(block) > 4<<20 {
				t.Fatalf("bomb block is %d bytes; want a small one", len(block))
			}
			sealed := dk.sealCompressed(sealVersionS2, block, aad)
			if _, err := dk.Open(sealed, aad); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Open(bomb) = %v, want ErrTooLarge", err)
			}
		})
	}
	small := dk.sealCompressed(sealVersionS2, s2.Encode(nil, make([]byte, 100)), aad)
	if _, err := dk.OpenLimit(small, aad, 99); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("OpenLimit(100 bytes, 99) = %v, want ErrTooLarge", err)
	}
}

// TestOpen_CorruptFrame: authenticated bytes that are not zstd, or not S2.
func TestOpen_CorruptFrame(t *testing.T) {
	dk := NewDataKey()
	aad := AAD{Kind: "segment"}
	for _, version := range []byte{sealVersion, sealVersionS2} {
		sealed := dk.sealCompressed(version, []byte("definitely not a compressed frame"), aad)
		if _, err := dk.Open(sealed, aad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open(version %d, garbage) = %v, want ErrCorrupt", version, err)
		}
	}
}
