package keyring_test

import (
	"testing"

	"github.com/veil-privacy/veil/internal/keyring"
)

func TestSealedCodec(t *testing.T) {
	dk := keyring.NewDataKey()
	data := RRWebJSON(16 << 10)
	seal := func(f func([]byte, keyring.AAD) ([]byte, error)) []byte {
		b, err := f(data, testAAD)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name   string
		sealed []byte
		want   string
	}{
		{"Seal", seal(dk.Seal), keyring.CodecZstd},
		{"SealFast", seal(dk.SealFast), keyring.CodecZstd},
		{"SealS2", seal(dk.SealS2), keyring.CodecS2},
		{"Empty", nil, ""},
		{"UnknownVersion", []byte{0x7f, 1, 2, 3}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keyring.SealedCodec(tt.sealed); got != tt.want {
				t.Fatalf("SealedCodec = %q, want %q", got, tt.want)
			}
		})
	}
}
