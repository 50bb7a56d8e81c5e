package keyring

// Codec names of sealed objects (SealedCodec).
const (
	CodecZstd = "zstd"
	CodecS2   = "s2"
)

// SealedCodec names the compression of a sealed object from its format
// byte, without opening it ("" for an unknown or empty object). The
// recompression job uses it to find segments sealed with S2 at ingest.
func SealedCodec(sealed []byte) string {
	if len(sealed) == 0 {
		return ""
	}
	switch sealed[0] {
	case sealVersion:
		return CodecZstd
	case sealVersionS2:
		return CodecS2
	}
	return ""
}
