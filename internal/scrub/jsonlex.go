package scrub

import (
	"bytes"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON lexer: the walkers (json.go, rrweb.go) parse and scrub in one
// pass over the bytes, with these helpers for strings and numbers. There is
// no token tape and no separate validation pass.

func syntaxErr(off int, msg string) error {
	return fmt.Errorf("scrub: %w at offset %d: %s", ErrInvalidJSON, off, msg)
}

// skipWS skips JSON whitespace. Compact JSON has none, so the first test
// usually fails on a structural byte.
func skipWS(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// strClass marks bytes that end the fast string loop.
var strClass = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	return t
}()

const (
	lo7 = 0x0101010101010101
	hi1 = 0x8080808080808080
)

// swarSpecial returns a mask with the high bit set in each byte of x that
// is a control byte, '"', '\\' or (unless high) non-ASCII. Bytes above the
// first flagged one may be flagged spuriously (borrows), so only the lowest
// set bit is meaningful.
func swarSpecial(x uint64, high bool) uint64 {
	ctl := (x - 0x20*lo7) & ^x
	q := x ^ ('"' * lo7)
	bs := x ^ ('\\' * lo7)
	m := (ctl | (q-lo7)&^q | (bs-lo7)&^bs) & hi1
	if !high {
		m |= x & hi1
	}
	return m
}

// swarSpecialASCII is swarSpecial(x, false) in fewer operations: as every
// byte with the high bit set is flagged anyway, the subtractions need no
// mask against such bytes (their results only differ there).
func swarSpecialASCII(x uint64) uint64 {
	return ((x - 0x20*lo7) | (x ^ '"'*lo7 - lo7) | (x ^ '\\'*lo7 - lo7) | x) & hi1
}

// strEnd returns the index of the first special byte (see swarSpecial) at
// or after j, or len(b).
func strEnd(b []byte, j int) int {
	for ; j+8 <= len(b); j += 8 {
		if m := swarSpecialASCII(load64(b, j)); m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
	}
	for j < len(b) && !strClass[b[j]] {
		j++
	}
	return j
}

// slowString finishes the string whose content starts at s, from j (the
// first byte the fast loop stopped at: an escape, a control byte or
// non-ASCII). It returns the end of the content (the closing quote) and
// whether the string has escapes; errors are returned as values for the
// walker to raise.
func slowString(b []byte, s, j int) (int, bool, error) {
	esc, high := false, false
	for {
		// Eight bytes at a time (SWAR), jumping straight to the first
		// special byte. Once a non-ASCII byte was seen, further ones no
		// longer stop the loop: the string is checked with utf8.Valid at
		// the end.
		for j+8 <= len(b) {
			if m := swarSpecial(load64(b, j), high); m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		for j < len(b) && !strClass[b[j]] {
			j++
		}
		if j >= len(b) {
			return j, esc, syntaxErr(s-1, "unterminated string")
		}
		switch c := b[j]; {
		case c == '"':
			if high && !utf8.Valid(b[s:j]) {
				return j, esc, fmt.Errorf("scrub: %w at offset %d", ErrInvalidUTF8, s)
			}
			return j, esc, nil
		case c == '\\':
			esc = true
			if j+1 >= len(b) {
				return j, esc, syntaxErr(j, "unterminated escape")
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+5 >= len(b) || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
					return j, esc, syntaxErr(j, "invalid \\u escape")
				}
				j += 6
			default:
				return j, esc, syntaxErr(j, "invalid escape")
			}
		case c < 0x20:
			return j, esc, syntaxErr(j, "control character in string")
		default:
			high = true
			j++
		}
	}
}

// skipString returns the index after the closing quote of the (valid)
// string whose opening quote is at i.
func skipString(b []byte, i int) int {
	j := i + 1
	for {
		j = strEnd(b, j)
		switch {
		case j >= len(b):
			return j
		case b[j] == '"':
			return j + 1
		case b[j] == '\\':
			j += 2
		default:
			j++
		}
	}
}

// skipValue returns the end of the (valid) JSON value at i; the walkers use
// it to look ahead in objects they have already parsed once.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default:
		for i < len(b) && !valueEnd[b[i]] {
			i++
		}
		return i
	}
}

var valueEnd = [256]bool{',': true, '}': true, ']': true, ' ': true, '\t': true, '\n': true, '\r': true}

// parseNumber returns the end of the number at i (RFC 8259 grammar).
func parseNumber(b []byte, i int) (int, error) {
	j := i
	if b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	default:
		return j, syntaxErr(j, "invalid number")
	}
	if j < len(b) && b[j] == '.' {
		j++
		k := j
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if j == k {
			return j, syntaxErr(j, "invalid number fraction")
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := j
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if j == k {
			return j, syntaxErr(j, "invalid number exponent")
		}
	}
	return j, nil
}

// unquote appends the decoded content of a string token's raw bytes to dst.
// Invalid surrogates become U+FFFD, as in encoding/json.
func unquote(raw, dst []byte) []byte {
	for i := 0; i < len(raw); {
		if raw[i] != '\\' { // copy the run up to the next escape at once
			k := bytes.IndexByte(raw[i:], '\\')
			if k < 0 {
				return append(dst, raw[i:]...)
			}
			dst = append(dst, raw[i:i+k]...)
			i += k
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := rune(hex4(raw[i+2:]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+5 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, rune(hex4(raw[i+2:]))); r2 != utf8.RuneError {
						dst = utf8.AppendRune(dst, r2)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) int {
	return int(unhex(b[0]))<<12 | int(unhex(b[1]))<<8 | int(unhex(b[2]))<<4 | int(unhex(b[3]))
}

// appendQuoted appends s as a JSON string, escaping only what JSON
// requires, so the result is never longer than an escaped original.
func appendQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		// Skip eight bytes at a time while none needs escaping.
		for i+8 <= len(s) {
			m := swarSpecial(load64(s, i), true)
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			const hexd = "0123456789abcdef"
			dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
