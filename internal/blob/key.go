package blob

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen is the longest key, in bytes, that every adapter accepts (S3's
// own limit).
const MaxKeyLen = 1024

// MaxSegmentLen is the longest slash-separated key segment, in bytes: the
// file-name limit of common filesystems, which the local adapter and
// posix-backed S3 servers map segments to.
const MaxSegmentLen = 255

// ValidateKey reports whether key is usable as an object key in every
// adapter; see the package documentation for the rules. The returned error
// wraps ErrInvalidKey.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	return validate(key, "key", false)
}

// ValidatePrefix reports whether prefix is usable as a List prefix: the
// empty string, or a key-like string that may end with "/" and whose last
// segment may be partial. The returned error wraps ErrInvalidKey.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return validate(prefix, "prefix", true)
}

func validate(s, what string, prefix bool) error {
	if len(s) > MaxKeyLen {
		return fmt.Errorf("%w: %s is %d bytes, max %d", ErrInvalidKey, what, len(s), MaxKeyLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s %q is not valid UTF-8", ErrInvalidKey, what, s)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w: %s %q contains a control character", ErrInvalidKey, what, s)
		case c == '\\':
			return fmt.Errorf("%w: %s %q contains a backslash", ErrInvalidKey, what, s)
		}
	}
	segs := strings.Split(s, "/")
	if prefix && strings.HasSuffix(s, "/") {
		segs = segs[:len(segs)-1] // "a/b/" lists the children of a/b
	}
	for _, seg := range segs {
		switch {
		case seg == "":
			return fmt.Errorf("%w: %s %q has an empty segment (leading, trailing or double slash)", ErrInvalidKey, what, s)
		case len(seg) > MaxSegmentLen:
			return fmt.Errorf("%w: %s has a segment of %d bytes, max %d", ErrInvalidKey, what, len(seg), MaxSegmentLen)
		case seg[0] == '.':
			return fmt.Errorf("%w: %s %q has a segment starting with '.' (reserved; no . or ..)", ErrInvalidKey, what, s)
		}
	}
	return nil
}
