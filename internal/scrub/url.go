package scrub

import (
	"bytes"
	"slices"
)

// URL handling. Query strings, fragments and form bodies need no parser of
// their own: "name=value" pairs are caught by the sensitive-field check on
// '=' (fields.go, kv.go), and every detector also runs on the
// percent-decoded text, so "john%40example.com" and a card number written
// with "%20" or "+" between its groups are found. Spans found in a decoded
// view are mapped back to the source bytes and masked there.

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// pctView reports whether b needs a decoded view: it has %XX escapes, or
// (plus) it looks form-encoded and has '+' for spaces.
func pctView(b []byte, plus bool) bool {
	if plus {
		return bytes.IndexByte(b, '+') >= 0 && bytes.IndexByte(b, '=') >= 0 &&
			bytes.IndexByte(b, ' ') < 0 && bytes.IndexByte(b, '\n') < 0
	}
	for i := 0; ; {
		k := bytes.IndexByte(b[i:], '%')
		if k < 0 {
			return false
		}
		i += k
		if i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			return true
		}
		i++
	}
}

// decodePct percent-decodes src (and '+' to ' ' when plus) into v, and
// records in esc the view offset of every byte decoded from a %XX escape
// (three source bytes for one view byte), from which mapBack finds the
// source offset of any view byte. Runs without escapes are copied at once.
func decodePct(src []byte, plus bool, v []byte, esc []int32) ([]byte, []int32) {
	n := len(src)
	v = slices.Grow(v[:0], n)[:n]
	esc = esc[:0]
	k := 0
	for i := 0; i < n; {
		// The run up to the next '%' (or '+').
		r := bytes.IndexByte(src[i:], '%')
		if r < 0 {
			r = n - i
		}
		if plus {
			if p := bytes.IndexByte(src[i:i+r], '+'); p >= 0 {
				r = p
			}
		}
		copy(v[k:], src[i:i+r])
		k, i = k+r, i+r
		if i >= n {
			break
		}
		c := src[i]
		switch {
		case c == '%' && i+2 < n && isHex(src[i+1]) && isHex(src[i+2]):
			v[k] = unhex(src[i+1])<<4 | unhex(src[i+2])
			esc = append(esc, int32(k))
			k++
			i += 3
			continue
		case c == '+' && plus:
			c = ' '
		}
		v[k] = c
		k++
		i++
	}
	return v[:k], esc
}

// mapBack returns the source offset of view offset p (0 ≤ p ≤ len(view))
// of a view decoded with escapes esc (see decodePct): each escape before p
// took two more source bytes.
func mapBack(p int, esc []int32) int {
	k, _ := slices.BinarySearch(esc, int32(p)) // escapes before p
	return p + 2*k
}

// userinfoChar reports whether c may appear in the user:password part of a
// URL (RFC 3986 unreserved, pct-encoded, sub-delims, ':'), or is an
// unescaped '@' inside a password.
func userinfoChar(c byte) bool {
	if isAlnum(c) {
		return true
	}
	switch c {
	case '-', '.', '_', '~', '%', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@':
		return true
	}
	return false
}

// urlCred handles the '@' at i when it ends the userinfo of a URL
// ("scheme://user:pass@host"): the userinfo is removed.
func (sc *scanner) urlCred(i int) bool {
	b := sc.b
	lo := max(0, i-256)
	for j := i - 1; j >= lo; j-- {
		c := b[j]
		if c == '/' {
			if j >= 2 && b[j-1] == '/' && b[j-2] == ':' && j+1 < i {
				sc.add(j+1, i, dURLCred)
				return true
			}
			return false
		}
		if !userinfoChar(c) {
			return false
		}
	}
	return false
}

// slackWebhook handles "hooks.slack.com/services/T…/B…/…" at i: the path
// is the secret.
func (sc *scanner) slackWebhook(i int) int {
	const host = "hooks.slack.com/"
	b := sc.b
	if !bytes.HasPrefix(b[i:], []byte(host)) {
		return -1
	}
	s := i + len(host)
	e := s
	for e < len(b) && (isWordByte(b[e]) || b[e] == '/' || b[e] == '-') {
		e++
	}
	if e-s < 20 {
		return -1
	}
	sc.add(s, e, dSlack)
	return e
}
