package events

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// The scanner validates JSON (RFC 8259, UTF-8) in one pass without building
// values. It records the members of the objects Parse cares about (the
// batch envelope, each message, batch-level context) as byte spans, so the
// stored message is assembled by copying spans of the input. Every error is
// found before any output is produced, and nothing is allocated per value:
// memory is bounded by the size of the body, never by its shape.

// scanErr is the kind of problem the scanner found.
type scanErr uint8

const (
	errNone   scanErr = iota
	errSyntax         // not JSON
	errUTF8           // a string holds bytes that are not UTF-8
	errDepth          // nested deeper than Limits.MaxDepth
)

// member is one name/value pair of an object. The name span excludes the
// quotes; the value span is the value's bytes.
type member struct {
	kStart, kEnd int32
	vStart, vEnd int32
	kEsc         bool // the name has backslash escapes
}

// scanner holds the input and the first error. Methods return the index
// after what they read, or -1 once an error is recorded.
type scanner struct {
	b        []byte
	maxDepth int
	maxStr   int
	err      scanErr
	errOff   int
	// long is the offset of the first string longer than maxStr, or -1.
	// It is not an error at once, so a message's size is reported first.
	long int
}

func (s *scanner) fail(e scanErr, off int) int {
	if s.err == errNone {
		s.err, s.errOff = e, off
	}
	return -1
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// strPlain marks ASCII bytes that need no attention inside a string.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// value reads one value starting at i (no leading whitespace) at the given
// nesting depth (the value itself is at depth+1 if it is a container).
func (s *scanner) value(i, depth int) int {
	if i >= len(s.b) {
		return s.fail(errSyntax, i)
	}
	switch c := s.b[i]; c {
	case '"':
		end, _ := s.str(i)
		return end
	case '{':
		return s.object(i, depth+1, nil)
	case '[':
		return s.array(i, depth+1)
	case 't':
		return s.lit(i, "true")
	case 'f':
		return s.lit(i, "false")
	case 'n':
		return s.lit(i, "null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return s.num(i)
		}
		return s.fail(errSyntax, i)
	}
}

func (s *scanner) lit(i int, want string) int {
	if len(s.b)-i < len(want) || string(s.b[i:i+len(want)]) != want {
		return s.fail(errSyntax, i)
	}
	return i + len(want)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (s *scanner) num(i int) int {
	b, start := s.b, i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return s.fail(errSyntax, start)
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return s.fail(errSyntax, i)
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return s.fail(errSyntax, i)
		}
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	return i
}

// str reads a string starting at its opening quote and reports whether it
// has escapes. Its content is b[i+1 : end-1].
func (s *scanner) str(i int) (end int, esc bool) {
	b, start := s.b, i
	i++
	for i < len(b) {
		if i+8 <= len(b) {
			// Test 8 bytes at once for a byte below 0x20, '"', '\\' or
			// non-ASCII. A borrow can flag a byte above a real hit, never
			// below it, so the lowest flag is the first special byte.
			w := binary.LittleEndian.Uint64(b[i:])
			q := w ^ (lsb * '"')
			e := w ^ (lsb * '\\')
			m := ((w-lsb*0x20)&^w | (q-lsb)&^q | (e-lsb)&^e | w) & msb
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else if strPlain[b[i]] {
			i++
			continue
		}
		switch c := b[i]; {
		case c == '"':
			if i-start-1 > s.maxStr && s.long < 0 {
				s.long = start
			}
			return i + 1, esc
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return s.fail(errSyntax, i), false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex4(b[i+2:i+6]) {
					return s.fail(errSyntax, i), false
				}
				i += 6
			default:
				return s.fail(errSyntax, i), false
			}
		case c < 0x20:
			return s.fail(errSyntax, i), false
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return s.fail(errUTF8, i), false
			}
			i += size
		}
	}
	return s.fail(errSyntax, i), false
}

func isHex4(h []byte) bool {
	for _, c := range h {
		if !(isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (s *scanner) array(i, depth int) int {
	if depth > s.maxDepth {
		return s.fail(errDepth, i)
	}
	i = skipWS(s.b, i+1)
	if i < len(s.b) && s.b[i] == ']' {
		return i + 1
	}
	for {
		if i = s.value(i, depth); i < 0 {
			return -1
		}
		i = skipWS(s.b, i)
		if i >= len(s.b) {
			return s.fail(errSyntax, i)
		}
		switch s.b[i] {
		case ',':
			i = skipWS(s.b, i+1)
		case ']':
			return i + 1
		default:
			return s.fail(errSyntax, i)
		}
	}
}

// object reads an object at depth (already counting the object itself);
// when mem is not nil its members are appended to *mem.
func (s *scanner) object(i, depth int, mem *[]member) int {
	if depth > s.maxDepth {
		return s.fail(errDepth, i)
	}
	b := s.b
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return s.fail(errSyntax, i)
		}
		kStart := i + 1
		kEnd, kEsc := s.str(i)
		if kEnd < 0 {
			return -1
		}
		i = skipWS(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return s.fail(errSyntax, i)
		}
		vStart := skipWS(b, i+1)
		if i = s.value(vStart, depth); i < 0 {
			return -1
		}
		if mem != nil {
			*mem = append(*mem, member{int32(kStart), int32(kEnd - 1), int32(vStart), int32(i), kEsc})
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return s.fail(errSyntax, i)
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return i + 1
		default:
			return s.fail(errSyntax, i)
		}
	}
}

// unquote appends the decoded content of the JSON string raw (quotes
// included, already validated) to dst. Lone surrogates become U+FFFD, as
// encoding/json does.
func unquote(dst, raw []byte) []byte {
	raw = raw[1 : len(raw)-1]
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
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
			r := hexRune(raw[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = hexRune(raw[i+2 : i+6])
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
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

func hexRune(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
