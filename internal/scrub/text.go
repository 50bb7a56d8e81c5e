package scrub

import (
	"bytes"
	"slices"
	"unicode/utf8"
)

// span is a byte range [start, end) of the scanned text that a detector
// wants removed.
type span struct {
	start, end int
	det        detID
}

// Byte classes for the scan loop. Most bytes are cOther or cWord and cost a
// table lookup; the rest start a cheap check before any validator runs.
const (
	cOther uint8 = iota // separators, punctuation, non-ASCII
	cWord               // letters and '_'
	cDigit
	cPlus  // '+' (E.164)
	cParen // '(' (national phone)
	cAt    // '@' (e-mail, URL credentials)
	cColon // ':' (IPv6, "key: value")
	cEq    // '=' ("key=value")
	cDash  // '-' (PEM blocks)
)

var byteClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = cWord
		t[c-'a'+'A'] = cWord
	}
	t['_'] = cWord
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit
	}
	t['+'], t['('], t['@'], t[':'], t['='], t['-'] = cPlus, cParen, cAt, cColon, cEq, cDash
	return t
}()

// isWordByte reports whether c continues a word: [A-Za-z0-9_].
func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

func skipWord(b []byte, i int) int {
	for i < len(b) && isWordByte(b[i]) {
		i++
	}
	return i
}

// scanner finds spans in one text. It is reused (pooled) across calls so
// that clean input costs no allocation.
type scanner struct {
	c *compiled
	// keys caches field names (class, scanned clean); vals caches short
	// values scanned clean, apart so that a document's many unique values
	// do not evict the few keys it repeats.
	keys, vals  *keyCache
	memo, vmemo *keyMemo // keys; values scanned clean
	b           []byte   // the view being scanned
	spans       []span
	groups      []group
	// jwtFail is the end of the last JWT header run that failed; starts
	// before it cannot succeed either (keeps JWT checks linear).
	jwtFail int

	ev      []uint64 // event masks of the text being scanned (textidx.go)
	counts  []int32  // per detector, flushed into a Report by the caller
	view    [2][]byte
	vesc    [2][]int32 // escapes of view (see decodePct)
	outBuf  [2][]byte
	outSide int
	idx     bool // use the indexed scan (textidx.go)
}

func newScanner(c *compiled) *scanner {
	return &scanner{c: c, keys: new(keyCache), vals: new(keyCache), memo: &keyMemo{hashMask: 0xFFFFFF}, vmemo: &keyMemo{hashMask: ^uint64(0)}, counts: make([]int32, int(numBuiltin)+len(c.custom)), idx: hasAVX2 && !c.byteScan}
}

func (sc *scanner) on(d detID) bool { return sc.c.enabled[d] }

func (sc *scanner) add(start, end int, d detID) {
	if end > start {
		sc.spans = append(sc.spans, span{start, end, d})
	}
}

// wordByte is isWordByte as a table, for the skip loops.
var wordByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isWordByte(byte(c))
	}
	return t
}()

// scan appends to sc.spans the spans found in b.
func (sc *scanner) scan(b []byte) {
	if sc.idx && len(b) >= minIdx {
		sc.eventMasks(b)
		sc.scanIdx(b)
	} else {
		sc.scanBytes(b)
	}
	if len(sc.c.custom) > 0 {
		sc.scanCustom(b)
	}
}

// scanBytes finds the built-in detectors' spans in b a byte at a time.
func (sc *scanner) scanBytes(b []byte) {
	sc.b = b
	sc.jwtFail = 0
	n := len(b)
	i := 0
	for i < n {
		// Most bytes are separators or inside words: skip them in tight
		// loops and dispatch only on bytes that can start a check.
		for i < n && byteClass[b[i]] == cOther {
			i++
		}
		if i >= n {
			break
		}
		c := b[i]
		switch byteClass[c] {
		case cWord:
			// Only a word's first letter can start a check; a word byte
			// right after a digit or '_' continues a word.
			if (i == 0 || !wordByte[b[i-1]]) && startPair(b, i) && startOK(b, i) {
				if e := sc.wordStart(i); e > i {
					i = e
					continue
				}
			}
			i++
			for i < n && wordByte[b[i]] {
				i++
			}
		case cDigit:
			i = sc.numeric(i)
		case cPlus, cParen:
			if i+1 < n && isDigit(b[i+1]) && (i == 0 || !isWordByte(b[i-1])) {
				i = sc.numeric(i)
			} else {
				i++
			}
		case cAt:
			i = max(i+1, sc.at(i))
		case cColon:
			i = max(i+1, sc.colon(i))
		case cEq:
			i = max(i+1, sc.keyValue(i))
		case cDash:
			i = max(i+1, sc.pem(i))
		}
	}
}

func (sc *scanner) scanCustom(b []byte) {
	for k, re := range sc.c.custom {
		for _, m := range re.FindAllIndex(b, -1) {
			sc.add(m[0], m[1], dCustom0+detID(k))
		}
	}
}

// protected reports whether view[a:b] is already redaction output: only
// '*' or inside a replacement marker. Such spans are dropped so that
// scrubbing converges (custom patterns may match the marker).
func (sc *scanner) protected(view []byte, a, b int) bool {
	all := true
	for _, c := range view[a:b] {
		if c != '*' {
			all = false
			break
		}
	}
	if all {
		return true
	}
	m := sc.c.marker
	if m == "" || b-a > len(m) {
		return false
	}
	lo, hi := max(0, b-len(m)), min(len(view), a+len(m))
	for p := lo; p <= a && p+len(m) <= hi; p++ {
		if string(view[p:p+len(m)]) == m {
			return true
		}
	}
	return false
}

// hasPctOrPlus reports whether b contains '%' or '+', without which no
// percent- or form-decoded view is needed (see pctView). Eight bytes at a
// time: most strings have neither.
func hasPctOrPlus(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := load64(b, i)
		p := x ^ ('%' * lo7)
		q := x ^ ('+' * lo7)
		if ((p-lo7)&^p|(q-lo7)&^q)&hi1 != 0 {
			return true
		}
	}
	for ; i < len(b); i++ {
		if b[i] == '%' || b[i] == '+' {
			return true
		}
	}
	return false
}

// scrubOnce scans src (through its URL-decoded views when it has escapes),
// redacts what was found and returns the result, which lives in a scanner
// buffer until the next call. mask selects '*'-per-character replacement.
func (sc *scanner) scrubOnce(src []byte, mask bool) ([]byte, bool) {
	sc.spans = sc.spans[:0]
	// The common case: no encoded view to scan. The indexed scan learns
	// whether there is one from its classifier.
	idx := sc.idx && len(src) >= minIdx
	var enc bool
	if idx {
		enc = sc.eventMasks(src)
	} else {
		enc = hasPctOrPlus(src)
	}
	if !enc {
		if idx {
			sc.scanIdx(src)
		} else {
			sc.scanBytes(src)
		}
		if len(sc.c.custom) > 0 {
			sc.scanCustom(src)
		}
		if len(sc.spans) == 0 {
			return src, false
		}
		sc.dropProtected(src, 0)
		if len(sc.spans) == 0 {
			return src, false
		}
		return sc.redact(src, mask), true
	}
	if pctView(src, false) {
		v0, e0 := decodePct(src, false, sc.view[0][:0], sc.vesc[0][:0])
		sc.view[0], sc.vesc[0] = v0, e0
		sc.scanMapped(v0, e0, nil)
		// Double encoding (%2540) and encoded form bodies (%2B for spaces).
		if form := pctView(v0, true); form || pctView(v0, false) {
			v1, e1 := decodePct(v0, form, sc.view[1][:0], sc.vesc[1][:0])
			sc.view[1], sc.vesc[1] = v1, e1
			sc.scanMapped(v1, e0, e1)
		}
	} else {
		sc.scan(src)
		sc.dropProtected(src, 0)
	}
	if pctView(src, true) { // form encoding: '+' is a space
		v, e := decodePct(src, true, sc.view[0][:0], sc.vesc[0][:0])
		sc.view[0], sc.vesc[0] = v, e
		sc.scanMapped(v, e, nil)
	}
	if len(sc.spans) == 0 {
		return src, false
	}
	return sc.redact(src, mask), true
}

// scanMapped scans view v and maps the spans found back to source
// offsets: through e1 (v decoded from the first view) when v is a second
// view, then through e0 (the first view decoded from the source).
func (sc *scanner) scanMapped(v []byte, e0, e1 []int32) {
	first := len(sc.spans)
	sc.scan(v)
	sc.dropProtected(v, first)
	for k := first; k < len(sc.spans); k++ {
		sp := &sc.spans[k]
		sp.start, sp.end = mapBack(mapBack(sp.start, e1), e0), mapBack(mapBack(sp.end, e1), e0)
	}
}

func (sc *scanner) dropProtected(v []byte, from int) {
	out := sc.spans[:from]
	for _, sp := range sc.spans[from:] {
		if !sc.protected(v, sp.start, sp.end) {
			out = append(out, sp)
		}
	}
	sc.spans = out
}

// redact merges overlapping spans, counts one redaction per merged span and
// writes the replaced text into a scanner buffer.
func (sc *scanner) redact(src []byte, mask bool) []byte {
	slices.SortFunc(sc.spans, func(a, b span) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end
	})
	sc.outSide ^= 1
	out := sc.outBuf[sc.outSide][:0]
	prev := 0
	for k := 0; k < len(sc.spans); {
		cur := sc.spans[k]
		k++
		for k < len(sc.spans) && sc.spans[k].start < cur.end {
			cur.end = max(cur.end, sc.spans[k].end)
			k++
		}
		if cur.start < prev { // defensive: never emit a range twice
			cur.start = prev
		}
		if cur.end <= cur.start {
			continue
		}
		sc.counts[cur.det]++
		out = append(out, src[prev:cur.start]...)
		out = appendReplacement(out, src[cur.start:cur.end], mask, sc.c.marker)
		prev = cur.end
	}
	out = append(out, src[prev:]...)
	sc.outBuf[sc.outSide] = out
	return out
}

// appendReplacement appends the replacement for the removed text t.
func appendReplacement(out, t []byte, mask bool, marker string) []byte {
	if !mask && marker != "" {
		return append(out, marker...)
	}
	for len(t) > 0 {
		_, size := utf8.DecodeRune(t)
		t = t[size:]
		out = append(out, '*')
	}
	return out
}

// maxPasses bounds the fixpoint loop; real input converges in one or two.
const maxPasses = 4

// scrubText redacts src until nothing more is found, so that scrubbing is
// idempotent. The result lives in a scanner buffer until the next call.
func (sc *scanner) scrubText(src []byte, mask bool) ([]byte, bool) {
	out, ch := sc.scrubOnce(src, mask)
	if !ch {
		return src, false
	}
	return sc.scrubTextFrom(src, out, mask)
}

// scrubTextFrom finishes scrubText after its first pass changed cur to out.
func (sc *scanner) scrubTextFrom(cur, out []byte, mask bool) ([]byte, bool) {
	changed := false
	for pass := 1; ; pass++ {
		if bytes.Equal(out, cur) {
			return cur, changed
		}
		cur, changed = out, true
		if pass == maxPasses {
			break
		}
		var ch bool
		if out, ch = sc.scrubOnce(cur, mask); !ch {
			return cur, changed
		}
	}
	// Did not converge (a pathological custom pattern): remove it all.
	sc.counts[dField]++
	sc.outSide ^= 1
	out = appendReplacement(sc.outBuf[sc.outSide][:0], cur, mask, sc.c.marker)
	sc.outBuf[sc.outSide] = out
	return out, true
}

// fullValue returns the replacement of a whole sensitive value, or ok=false
// when v is already redacted.
func (sc *scanner) fullValue(v []byte, mask bool) ([]byte, bool) {
	if len(v) == 0 || sc.protected(v, 0, len(v)) || (!mask && sc.c.marker != "" && string(v) == sc.c.marker) {
		return v, false
	}
	sc.counts[dField]++
	sc.outSide ^= 1
	out := appendReplacement(sc.outBuf[sc.outSide][:0], v, mask, sc.c.marker)
	sc.outBuf[sc.outSide] = out
	return out, true
}
