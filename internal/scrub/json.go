package scrub

import (
	"bytes"
	"fmt"
)

// walker parses and scrubs one JSON document in a single pass over its
// bytes: a recursive-descent parser that validates as it goes (RFC 8259,
// UTF-8, nesting limit) and hands every string, key and long number to the
// scanner with the class of its key. There is no token tape and no
// separate validation pass. Edits are emitted in document order into out,
// which stays nil until the first edit, so clean input is returned as is.
// rrweb batches use the same walker with the roles in rrweb.go.
type walker struct {
	s     *Scrubber
	sc    *scanner
	in    []byte
	i     int // parse cursor
	out   []byte
	pos   int  // in[:pos] has been copied to out
	mask  bool // replay: '*' per character instead of the marker
	depth int  // nesting of this document (JSON inside strings is deeper)
	nest  int  // open containers
	limit int  // nest must stay below limit
	dec   []byte
	path  [][]byte // keys from the root, only when rules have dotted SafeFields
	paths bool     // the rules have dotted SafeFields
	state ReplayState
	ids   *ReplayState // rrweb: sensitive input ids
	rr    rrState
}

func newWalker(s *Scrubber) *walker {
	return &walker{s: s, sc: newScanner(s.c), paths: len(s.c.safePaths) > 0}
}

// parseFail carries a parse error from deep in the recursive descent to
// document/rrweb, which recover it. Nothing else panics with this type.
type parseFail struct{ err error }

func (w *walker) fail(err error) { panic(parseFail{err}) }

// catch turns a parseFail panic into *err; any other panic is re-raised.
func catch(err *error) {
	if r := recover(); r != nil {
		pf, ok := r.(parseFail)
		if !ok {
			panic(r)
		}
		*err = pf.err
	}
}

// flush moves the scanner's counts into r.
func (w *walker) flush(r *Report) {
	for d, n := range w.sc.counts {
		if n == 0 {
			continue
		}
		if d < int(numBuiltin) {
			r.Add(detNames[d], int(n))
		} else {
			r.Add(w.s.c.names[d-int(numBuiltin)], int(n))
		}
		w.sc.counts[d] = 0
	}
}

// edit replaces in[a:b] with repl.
func (w *walker) edit(a, b int, repl []byte) {
	if w.out == nil {
		w.out = make([]byte, 0, len(w.in)+len(w.in)/8+64)
	}
	w.out = append(w.out, w.in[w.pos:a]...)
	w.out = append(w.out, repl...)
	w.pos = b
}

// outPos is the offset in the output of input offset x (x ≥ w.pos).
func (w *walker) outPos(x int) int { return len(w.out) + x - w.pos }

func (w *walker) result() []byte {
	if w.out == nil {
		return w.in
	}
	out := append(w.out, w.in[w.pos:]...)
	w.out = nil
	return out
}

func (w *walker) begin(b []byte, depth int, mask bool) {
	w.in, w.i, w.out, w.pos, w.mask, w.depth = b, skipWS(b, 0), nil, 0, mask, depth
	w.nest, w.limit = 0, w.s.limits.MaxDepth-depth
	w.path = w.path[:0]
}

// finish checks that only whitespace follows the top-level value.
func (w *walker) finish() {
	if i := skipWS(w.in, w.i); i != len(w.in) {
		w.fail(syntaxErr(i, "data after the top-level value"))
	}
}

// document scrubs b (a whole JSON text) at nesting depth depth.
func (w *walker) document(b []byte, depth int, mask bool) (out []byte, err error) {
	if w.s.limits.MaxDepth-depth <= 0 {
		return nil, fmt.Errorf("scrub: %w: deeper than MaxDepth %d", ErrTooDeep, w.s.limits.MaxDepth)
	}
	if len(b) > 1<<31-1 {
		return nil, fmt.Errorf("scrub: %w: over 2 GiB", ErrTooLarge)
	}
	defer catch(&err)
	w.begin(b, depth, mask)
	w.value(keyPlain)
	w.finish()
	return w.result(), nil
}

// number parses the number at w.i and returns its bounds.
func (w *walker) number() (int, int) {
	b, i := w.in, w.i
	// Ids, types and timestamps: plain integers need no call.
	e := i + 1
	for e < len(b) && isDigit(b[e]) {
		e++
	}
	c := b[i]
	if c == '-' || c == '0' && e > i+1 || e < len(b) && (b[e] == '.' || b[e] == 'e' || b[e] == 'E') {
		var err error
		if e, err = parseNumber(b, i); err != nil {
			w.fail(err)
		}
	}
	w.i = e
	return i, e
}

// value parses and scrubs the value at w.i under the class of its key.
func (w *walker) value(cl keyClass) {
	in := w.in
	if w.i >= len(in) {
		w.fail(syntaxErr(w.i, "unexpected end of input"))
	}
	switch c := in[w.i]; {
	case c == '"':
		if cl == keyPlain {
			// A value scanned clean before (see keyMemo): entries of up
			// to 16 bytes are compared inline, as in nextKey; longer
			// ones by get.
			if i := w.i; i+maxMemoKey+2 <= len(in) {
				x0, x1 := load64(in, i+1), load64(in, i+9)
				set := w.sc.vmemo.set(x0)
				long := false
				for k := range set {
					e := &set[k]
					if n := int(e.n); e.n-1 < 16 {
						if x0&e.m[0] == e.w[0] && x1&e.m[1] == e.w[1] && load8(in, i+1+n) == '"' {
							w.i = i + n + 2
							return
						}
					} else if n != 0 {
						long = true
					}
				}
				if long {
					if m := w.sc.vmemo.get(in, i+1); m != nil {
						w.i += int(m.n) + 2
						return
					}
				}
			}
		}
		s, e, esc := w.str()
		switch cl {
		case keyPlain:
			w.plainString(s, e, esc)
		case keySensitive:
			w.sensitiveString(s, e, esc)
		}
	case c == '{':
		ks, ke, esc, e, empty := w.openMember()
		if empty {
			return
		}
		for {
			if e != nil && cl == keyPlain && !w.paths {
				w.value(keyClass(e.flags & kcClass))
			} else {
				w.member(ks, ke, esc, cl)
			}
			var closed bool
			if ks, ke, esc, e, closed = w.nextMember(); closed {
				return
			}
		}
	case c == '[':
		if w.open(']') < 0 {
			return
		}
		for {
			w.value(cl)
			if w.next(']') {
				return
			}
		}
	case c == '-' || isDigit(c):
		s, e := w.number()
		switch cl {
		case keySensitive:
			w.sensitiveNumber(s, e)
		case keyPlain:
			w.plainNumber(s, e)
		}
	case c == 't':
		w.literal("true")
	case c == 'f':
		w.literal("false")
	case c == 'n':
		w.literal("null")
	default:
		w.fail(syntaxErr(w.i, fmt.Sprintf("unexpected byte %q", c)))
	}
}

func (w *walker) literal(lit string) {
	if !hasPrefix(w.in[w.i:], lit) {
		w.fail(syntaxErr(w.i, "invalid literal"))
	}
	w.i += len(lit)
}

// member scrubs the key at in[ks:ke] (its value is at w.i) and its value
// under the class the key gives.
func (w *walker) member(ks, ke int, esc bool, parent keyClass) {
	cl, pushed := w.memberKey(ks, ke, esc, parent)
	w.value(cl)
	if pushed {
		w.path = w.path[:len(w.path)-1]
	}
}

// memberKey scrubs and classifies the key at in[ks:ke] and returns the
// class of its value; pushed reports that the key was added to w.path.
func (w *walker) memberKey(ks, ke int, esc bool, parent keyClass) (cl keyClass, pushed bool) {
	// Fast path: a plain, unescaped key seen before in this walker.
	if parent == keyPlain && !esc && !w.paths && ke > ks && ke-ks <= maxCachedKey {
		const known = kcClassKnown | kcScanned
		if e, hit := w.sc.keys.slot(w.in[ks:ke]); hit && e.flags&known == known {
			w.sc.memo.put(w.in, ks, ke, e.flags)
			return keyClass(e.flags & kcClass), false
		}
	}
	key := w.in[ks:ke]
	if esc {
		key = unquote(key, nil) // a copy: it may be kept in w.path
	}
	cl = parent
	if parent != keySafe {
		var c keyClass
		if c, key = w.keyClass(ks, ke, key, parent == keyPlain); c != keyPlain {
			cl = c
		}
	}
	if len(w.s.c.safePaths) > 0 {
		w.path = append(w.path, key)
		if w.safePath() {
			cl = keySafe
		}
		return cl, true
	}
	return cl, false
}

// keyClass classifies the key in[ks:ke] (decoded: key). With scan, the
// key is first scrubbed like any string (keys may hold e-mails and ids
// too) and the kept text is classified; the key is then returned as kept.
// Clean keys are remembered in the scanner's key cache.
func (w *walker) keyClass(ks, ke int, key []byte, scan bool) (keyClass, []byte) {
	var e *keyEntry
	if cacheable(key) {
		var hit bool
		if e, hit = w.sc.keys.slot(key); hit && e.flags&kcClassKnown != 0 && (!scan || e.flags&kcScanned != 0) {
			return keyClass(e.flags & kcClass), key
		}
	}
	if schemaKey(key) && !w.s.c.schemaOverride {
		// rrweb's own keys: neither scanned nor classified.
		if e != nil {
			e.mark(key, uint8(keyPlain)|kcClassKnown|kcScanned)
		}
		return keyPlain, key
	}
	if scan {
		if out, changed := w.scrubString(key); changed {
			w.editString(ks, ke, out)
			key = append([]byte(nil), out...)
			return w.s.c.classify(key), key
		}
	}
	cl := w.s.c.classify(key)
	if e != nil {
		flags := uint8(cl) | kcClassKnown
		if scan {
			flags |= kcScanned
		}
		e.mark(key, flags)
	}
	return cl, key
}

// safePath reports whether w.path ends with one of the dotted SafeFields.
func (w *walker) safePath() bool {
	for _, p := range w.s.c.safePaths {
		if len(p) > len(w.path) {
			continue
		}
		ok := true
		base := len(w.path) - len(p)
		for x, name := range p {
			var kw keyWords
			kw.split(w.path[base+x])
			if string(kw.joined()) != name {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// content returns the decoded content of the string in[s:e].
func (w *walker) content(s, e int, esc bool) []byte {
	raw := w.in[s:e]
	if !esc {
		return raw
	}
	w.dec = unquote(raw, w.dec[:0])
	return w.dec
}

// plainString scans the string in[s:e] and rewrites it when something was
// found.
func (w *walker) plainString(s, e int, esc bool) {
	if e == s {
		return
	}
	src := w.in[s:e]
	if esc {
		src = w.content(s, e, esc)
	}
	var ent *keyEntry
	if cacheable(src) {
		var hit bool
		if ent, hit = w.sc.vals.slot(src); hit {
			if !esc { // seen before, nothing found
				w.sc.vmemo.put(w.in, s, e, 0)
			}
			return
		}
	}
	var out []byte
	var changed bool
	if len(src) < 2 || !jsonStart[src[0]] || w.depth >= maxStringDepth {
		// Not JSON (see looksJSON): scrubString's first pass is one
		// scanner pass, called directly; most strings stop there.
		o, ch := w.sc.scrubOnce(src, w.mask)
		if ch {
			o, ch = w.sc.scrubTextFrom(src, o, w.mask)
		}
		if ch {
			out, changed = w.scrubStringFrom(src, o, true)
		}
	} else {
		out, changed = w.scrubString(src)
	}
	if changed {
		w.editString(s, e, out)
	} else if ent != nil {
		ent.mark(src, 0)
	}
}

// editString replaces the string with content in[s:e] (quotes included)
// with v, quoted.
func (w *walker) editString(s, e int, v []byte) {
	var buf [256]byte
	q := appendQuoted(buf[:0], v)
	w.edit(s-1, e+1, q)
}

// maxStringDepth bounds JSON-in-a-string-in-JSON: deeper strings are
// scanned as text (which still finds `"password": "…"` pairs).
const maxStringDepth = 2

// scrubString scrubs a decoded string until nothing more is found: as
// embedded JSON when it parses as JSON, otherwise as text.
func (w *walker) scrubString(src []byte) ([]byte, bool) {
	out, ch := w.scrubPass(src)
	return w.scrubStringFrom(src, out, ch)
}

// scrubPass is one pass of scrubString over cur.
func (w *walker) scrubPass(cur []byte) ([]byte, bool) {
	if w.depth < maxStringDepth && looksJSON(cur) {
		if o, ok := w.embedded(cur); ok {
			return o, !bytes.Equal(o, cur)
		}
	}
	return w.sc.scrubText(cur, w.mask)
}

// scrubStringFrom finishes scrubString after its first pass over cur gave
// out (changed: ch).
func (w *walker) scrubStringFrom(cur, out []byte, ch bool) ([]byte, bool) {
	changed := false
	for pass := 1; ; pass++ {
		if !ch {
			return cur, changed
		}
		// Detach from scanner buffers before the next pass reuses them.
		cur, changed = append([]byte(nil), out...), true
		if pass == maxPasses {
			break
		}
		out, ch = w.scrubPass(cur)
	}
	out, _ = w.sc.fullValue(cur, w.mask)
	return out, true
}

var jsonStart = [256]bool{'{': true, '[': true, '"': true, ' ': true, '\t': true, '\n': true, '\r': true}

// looksJSON reports whether s is worth parsing as JSON: an object, an
// array, or a string literal (rrweb's console plugin stores each argument
// JSON-encoded).
func looksJSON(s []byte) bool {
	if len(s) < 2 || !jsonStart[s[0]] {
		return false
	}
	s = bytes.TrimSpace(s)
	if len(s) < 2 {
		return false
	}
	f, l := s[0], s[len(s)-1]
	return f == '{' && l == '}' || f == '[' && l == ']' || f == '"' && l == '"'
}

// embedded scrubs s as a JSON document one level deeper. ok is false when
// s is not valid JSON (it is then scanned as text).
func (w *walker) embedded(s []byte) ([]byte, bool) {
	sub := w.s.get()
	defer w.s.put(sub)
	sub.ids = w.ids
	out, err := sub.document(s, w.depth+1, w.mask)
	if err != nil {
		// Not JSON after all: what the walk counted before it failed does
		// not count (the caller scans s as text).
		clear(sub.sc.counts)
		return nil, false
	}
	w.absorb(sub)
	if &out[0] == &s[0] { // unchanged: s may be a scratch buffer
		return s, true
	}
	return out, true
}

// absorb adds the counts found by sub (a walker of part of this message)
// to w's.
func (w *walker) absorb(sub *walker) {
	for d, n := range sub.sc.counts {
		w.sc.counts[d] += n
		sub.sc.counts[d] = 0
	}
}

// sensitiveString replaces the whole string in[s:e].
func (w *walker) sensitiveString(s, e int, esc bool) {
	src := w.content(s, e, esc)
	if out, ok := w.sc.fullValue(src, w.mask); ok {
		w.editString(s, e, out)
	}
}

// sensitiveNumber replaces a number under a sensitive key with a string.
func (w *walker) sensitiveNumber(s, e int) {
	if out, ok := w.sc.fullValue(w.in[s:e], w.mask); ok {
		var buf [64]byte
		w.edit(s, e, appendQuoted(buf[:0], out))
	}
}

// plainNumber checks a bare number for card numbers (the only detector
// that can match 13+ plain digits).
func (w *walker) plainNumber(s, e int) {
	if e-s < 13 {
		return
	}
	out, changed := w.sc.scrubText(w.in[s:e], w.mask)
	if changed {
		var buf [64]byte
		w.edit(s, e, appendQuoted(buf[:0], out))
	}
}
