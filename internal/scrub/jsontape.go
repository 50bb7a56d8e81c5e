package scrub

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON parser validates a document (RFC 8259, UTF-8) and records it as
// a flat tape of tokens in document order, so walkers can look ahead (an
// input's type attribute may come after its value) without building maps
// or interface values. The tape is reused across calls.

// Token kinds.
const (
	tObj uint8 = iota + 1
	tArr
	tStr
	tNum
	tLit // true, false, null
)

// tok is one JSON value (or object key, which is a tStr).
type tok struct {
	start, end int32 // strings: content between the quotes; others: the value's bytes
	next       int32 // index of the token after this value and its children
	kind       uint8
	esc        bool // string has backslash escapes
}

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

// parse validates b and fills tape. maxDepth bounds the nesting.
//
// Strings are the bulk of every document (object keys included), so the
// common case, plain ASCII without escapes, is handled inline; parseString
// takes over at the first escape, control or non-ASCII byte.
func parse(b []byte, tape []tok, stack []int32, maxDepth int) ([]tok, []int32, error) {
	tape = tape[:0]
	stack = stack[:0]
	i := skipWS(b, 0)
	if len(b) > 1<<31-1 {
		return tape, stack, fmt.Errorf("scrub: %w: over 2 GiB", ErrTooLarge)
	}
	inObj := false // the innermost open container is an object
	key := false   // an object member starts at i
	var err error
	for {
		if key {
			if i >= len(b) || b[i] != '"' {
				return tape, stack, syntaxErr(i, "expected a string key")
			}
			if j := strEnd(b, i+1); j < len(b) && b[j] == '"' {
				tape = append(tape, tok{start: int32(i + 1), end: int32(j), next: int32(len(tape)) + 1, kind: tStr})
				i = j + 1
			} else if tape, i, err = parseString(b, i, tape); err != nil {
				return tape, stack, err
			}
			if i >= len(b) || b[i] != ':' {
				if i = skipWS(b, i); i >= len(b) || b[i] != ':' {
					return tape, stack, syntaxErr(i, "expected ':' after a key")
				}
			}
			i = skipWS(b, i+1)
		}
		// Expect a value at i.
		if i >= len(b) {
			return tape, stack, syntaxErr(i, "unexpected end of input")
		}
		c := b[i]
		idx := int32(len(tape))
		switch {
		case c == '"':
			if j := strEnd(b, i+1); j < len(b) && b[j] == '"' {
				tape = append(tape, tok{start: int32(i + 1), end: int32(j), next: idx + 1, kind: tStr})
				i = j + 1
			} else if tape, i, err = parseString(b, i, tape); err != nil {
				return tape, stack, err
			}
		case c == '{' || c == '[':
			if len(stack) >= maxDepth {
				return tape, stack, fmt.Errorf("scrub: %w: deeper than MaxDepth %d at offset %d", ErrTooDeep, maxDepth, i)
			}
			k := tObj
			if c == '[' {
				k = tArr
			}
			tape = append(tape, tok{start: int32(i), kind: k})
			i = skipWS(b, i+1)
			if i < len(b) && (c == '{' && b[i] == '}' || c == '[' && b[i] == ']') {
				tape[idx].end, tape[idx].next = int32(i+1), int32(len(tape))
				i++
				break
			}
			stack = append(stack, idx)
			inObj = c == '{'
			key = inObj
			continue
		case c == '-' || isDigit(c):
			// Ids, types and timestamps: plain integers need no call.
			e := i + 1
			for e < len(b) && isDigit(b[e]) {
				e++
			}
			if c == '-' || c == '0' && e > i+1 || e < len(b) && (b[e] == '.' || b[e] == 'e' || b[e] == 'E') {
				if e, err = parseNumber(b, i); err != nil {
					return tape, stack, err
				}
			}
			tape = append(tape, tok{start: int32(i), end: int32(e), next: idx + 1, kind: tNum})
			i = e
		case c == 't' || c == 'f' || c == 'n':
			lit := "null"
			if c == 't' {
				lit = "true"
			} else if c == 'f' {
				lit = "false"
			}
			if !hasPrefix(b[i:], lit) {
				return tape, stack, syntaxErr(i, "invalid literal")
			}
			tape = append(tape, tok{start: int32(i), end: int32(i + len(lit)), next: idx + 1, kind: tLit})
			i += len(lit)
		default:
			return tape, stack, syntaxErr(i, fmt.Sprintf("unexpected byte %q", c))
		}
		// After a value: close containers or move to the next element.
		for {
			i = skipWS(b, i)
			if len(stack) == 0 {
				if i != len(b) {
					return tape, stack, syntaxErr(i, "data after the top-level value")
				}
				return tape, stack, nil
			}
			if i >= len(b) {
				return tape, stack, syntaxErr(i, "unexpected end of input")
			}
			switch c := b[i]; {
			case c == ',':
				i = skipWS(b, i+1)
				key = inObj
			case inObj && c == '}' || !inObj && c == ']':
				top := stack[len(stack)-1]
				tape[top].end, tape[top].next = int32(i+1), int32(len(tape))
				stack = stack[:len(stack)-1]
				inObj = len(stack) > 0 && tape[stack[len(stack)-1]].kind == tObj
				i++
				continue
			default:
				return tape, stack, syntaxErr(i, "expected ',' or a closing bracket")
			}
			break
		}
	}
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
		if m := swarSpecialASCII(binary.LittleEndian.Uint64(b[j:])); m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
	}
	for j < len(b) && !strClass[b[j]] {
		j++
	}
	return j
}

// parseString parses the string starting with the quote at i.
func parseString(b []byte, i int, tape []tok) ([]tok, int, error) {
	s := i + 1
	j := s
	esc, high := false, false
	for {
		// Eight bytes at a time (SWAR), jumping straight to the first
		// special byte; most strings end within one or two words. Once a
		// non-ASCII byte was seen, further ones no longer stop the loop:
		// the string is checked with utf8.Valid at the end.
		for j+8 <= len(b) {
			if m := swarSpecial(binary.LittleEndian.Uint64(b[j:]), high); m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		for j < len(b) && !strClass[b[j]] {
			j++
		}
		if j >= len(b) {
			return tape, j, syntaxErr(i, "unterminated string")
		}
		switch c := b[j]; {
		case c == '"':
			if high && !utf8.Valid(b[s:j]) {
				return tape, j, fmt.Errorf("scrub: %w at offset %d", ErrInvalidUTF8, s)
			}
			idx := int32(len(tape))
			tape = append(tape, tok{start: int32(s), end: int32(j), next: idx + 1, kind: tStr, esc: esc})
			return tape, j + 1, nil
		case c == '\\':
			esc = true
			if j+1 >= len(b) {
				return tape, j, syntaxErr(j, "unterminated escape")
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+5 >= len(b) || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
					return tape, j, syntaxErr(j, "invalid \\u escape")
				}
				j += 6
			default:
				return tape, j, syntaxErr(j, "invalid escape")
			}
		case c < 0x20:
			return tape, j, syntaxErr(j, "control character in string")
		default:
			high = true
			j++
		}
	}
}

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
			m := swarSpecial(binary.LittleEndian.Uint64(s[i:]), true)
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
