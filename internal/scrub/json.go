package scrub

import (
	"bytes"
	"fmt"
)

// walker scrubs one JSON document from its tape. Edits are emitted in
// document order into out, which stays nil until the first edit, so clean
// input is returned as is.
type walker struct {
	s     *Scrubber
	sc    *scanner
	in    []byte
	tape  []tok
	stack []int32
	out   []byte
	pos   int  // in[:pos] has been copied to out
	mask  bool // replay: '*' per character instead of the marker
	depth int  // nesting of this document (JSON inside strings is deeper)
	dec   []byte
	path  [][]byte // keys from the root, only when rules have dotted SafeFields
	state ReplayState
	ids   *ReplayState // rrweb: sensitive input ids
}

func newWalker(s *Scrubber) *walker {
	return &walker{s: s, sc: newScanner(s.c)}
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

func (w *walker) result() []byte {
	if w.out == nil {
		return w.in
	}
	out := append(w.out, w.in[w.pos:]...)
	w.out = nil
	return out
}

// document scrubs b (a whole JSON text) at nesting depth depth.
func (w *walker) document(b []byte, depth int, mask bool) ([]byte, error) {
	maxDepth := w.s.limits.MaxDepth - depth
	if maxDepth <= 0 {
		return nil, fmt.Errorf("scrub: %w: deeper than MaxDepth %d", ErrTooDeep, w.s.limits.MaxDepth)
	}
	var err error
	w.tape, w.stack, err = parse(b, w.tape, w.stack, maxDepth)
	if err != nil {
		return nil, err
	}
	w.in, w.out, w.pos, w.mask, w.depth = b, nil, 0, mask, depth
	w.path = w.path[:0]
	w.value(0, keyPlain)
	return w.result(), nil
}

// value scrubs the value at tape index ti under the class of its key and
// returns the index after it.
func (w *walker) value(ti int, cl keyClass) int {
	t := w.tape[ti]
	switch t.kind {
	case tObj:
		for k := ti + 1; k < int(t.next); {
			k = w.member(k, cl)
		}
	case tArr:
		for k := ti + 1; k < int(t.next); {
			k = w.value(k, cl)
		}
	case tStr:
		switch cl {
		case keySensitive:
			w.sensitiveString(ti)
		case keyPlain:
			w.str(ti)
		}
	case tNum:
		switch cl {
		case keySensitive:
			w.sensitiveNumber(ti)
		case keyPlain:
			w.number(ti)
		}
	}
	return int(t.next)
}

// member scrubs the key at tape index k and its value; it returns the
// index after the value.
func (w *walker) member(k int, parent keyClass) int {
	// Fast path: a plain, unescaped key seen before in this walker.
	if t := w.tape[k]; parent == keyPlain && !t.esc && len(w.s.c.safePaths) == 0 && t.end > t.start && int(t.end-t.start) <= maxCachedKey {
		const known = kcClassKnown | kcScanned
		if e, hit := w.sc.keys.slot(w.in[t.start:t.end]); hit && e.flags&known == known {
			return w.value(k+1, keyClass(e.flags&kcClass))
		}
	}
	key := w.keyBytes(k)
	cl := parent
	if parent != keySafe {
		var c keyClass
		if c, key = w.keyClass(k, key, parent == keyPlain); c != keyPlain {
			cl = c
		}
	}
	if len(w.s.c.safePaths) > 0 {
		w.path = append(w.path, key)
		if w.safePath() {
			cl = keySafe
		}
		next := w.value(k+1, cl)
		w.path = w.path[:len(w.path)-1]
		return next
	}
	return w.value(k+1, cl)
}

// keyClass classifies the key at tape index k (decoded: key). With scan,
// the key is first scrubbed like any string (keys may hold e-mails and
// ids too) and the kept text is classified; the key is then returned as
// kept. Clean keys are remembered in the scanner's key cache.
func (w *walker) keyClass(k int, key []byte, scan bool) (keyClass, []byte) {
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
			w.editString(w.tape[k], out)
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

// keyBytes returns the decoded bytes of the key at k. The result of an
// escaped key is a fresh copy, as it may be kept in w.path.
func (w *walker) keyBytes(k int) []byte {
	t := w.tape[k]
	raw := w.in[t.start:t.end]
	if !t.esc {
		return raw
	}
	return unquote(raw, nil)
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

// content returns the decoded content of string token t.
func (w *walker) content(t tok) []byte {
	raw := w.in[t.start:t.end]
	if !t.esc {
		return raw
	}
	w.dec = unquote(raw, w.dec[:0])
	return w.dec
}

// str scans the string at ti and rewrites it when something was found.
func (w *walker) str(ti int) {
	t := w.tape[ti]
	if t.end == t.start {
		return
	}
	src := w.content(t)
	var e *keyEntry
	if cacheable(src) {
		var hit bool
		if e, hit = w.sc.vals.slot(src); hit {
			return // seen before, nothing found
		}
	}
	out, changed := w.scrubString(src)
	if changed {
		w.editString(t, out)
	} else if e != nil {
		e.mark(src, 0)
	}
}

// editString replaces string token t (quotes included) with s, quoted.
func (w *walker) editString(t tok, s []byte) {
	var buf [256]byte
	q := appendQuoted(buf[:0], s)
	w.edit(int(t.start)-1, int(t.end)+1, q)
}

// maxStringDepth bounds JSON-in-a-string-in-JSON: deeper strings are
// scanned as text (which still finds `"password": "…"` pairs).
const maxStringDepth = 2

// scrubString scrubs a decoded string until nothing more is found: as
// embedded JSON when it parses as JSON, otherwise as text.
func (w *walker) scrubString(src []byte) ([]byte, bool) {
	cur, changed := src, false
	for pass := 0; pass < maxPasses; pass++ {
		var out []byte
		var ch bool
		if w.depth < maxStringDepth && looksJSON(cur) {
			if o, ok := w.embedded(cur); ok {
				out, ch = o, !bytes.Equal(o, cur)
			} else {
				out, ch = w.sc.scrubText(cur, w.mask)
			}
		} else {
			out, ch = w.sc.scrubText(cur, w.mask)
		}
		if !ch {
			return cur, changed
		}
		// Detach from scanner buffers before the next pass reuses them.
		cur, changed = append([]byte(nil), out...), true
	}
	out, _ := w.sc.fullValue(cur, w.mask)
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
	// Counts found in the sub-document belong to this message.
	for d, n := range sub.sc.counts {
		w.sc.counts[d] += n
		sub.sc.counts[d] = 0
	}
	if err != nil {
		return nil, false
	}
	if &out[0] == &s[0] { // unchanged: s may be a scratch buffer
		return s, true
	}
	return out, true
}

// sensitiveString replaces the whole string at ti.
func (w *walker) sensitiveString(ti int) {
	t := w.tape[ti]
	src := w.content(t)
	if out, ok := w.sc.fullValue(src, w.mask); ok {
		w.editString(t, out)
	}
}

// sensitiveNumber replaces a number under a sensitive key with a string.
func (w *walker) sensitiveNumber(ti int) {
	t := w.tape[ti]
	if out, ok := w.sc.fullValue(w.in[t.start:t.end], w.mask); ok {
		var buf [64]byte
		w.edit(int(t.start), int(t.end), appendQuoted(buf[:0], out))
	}
}

// number checks a bare number for card numbers (the only detector that
// can match 13+ plain digits).
func (w *walker) number(ti int) {
	t := w.tape[ti]
	if t.end-t.start < 13 {
		return
	}
	raw := w.in[t.start:t.end]
	out, changed := w.sc.scrubText(raw, w.mask)
	if changed {
		var buf [64]byte
		w.edit(int(t.start), int(t.end), appendQuoted(buf[:0], out))
	}
}
