package scrub

import (
	"fmt"
	"math/bits"
)

// rrweb event format (rrweb 2.x, @rrweb/types):
//
//	event: {"type": EventType, "data": {...}, "timestamp": ms}
//	EventType: 0 DomContentLoaded, 1 Load, 2 FullSnapshot, 3 IncrementalSnapshot,
//	           4 Meta {href,width,height}, 5 Custom {tag,payload}, 6 Plugin {plugin,payload}
//	FullSnapshot data: {"node": serializedNode, "initialOffset": {...}}
//	serializedNode: {"type": 0 Document | 1 DocumentType | 2 Element | 3 Text |
//	                 4 CDATA | 5 Comment, "id", "tagName", "attributes", "childNodes",
//	                 "textContent", ...}
//	IncrementalSnapshot data: {"source": IncrementalSource, ...}
//	  0 Mutation: {"texts": [{id,value}], "attributes": [{id,attributes}],
//	               "removes": [...], "adds": [{parentId,nextId,node}]}
//	  5 Input: {"id", "text", "isChecked"}
//	Plugin "rrweb/console@1": payload {level, payload: [strings], trace: [strings]}
//	Plugin "rrweb/network@1": payload {requests: [{url, method, requestHeaders,
//	                          requestBody, responseHeaders, responseBody, ...}]}
//
// Every string anywhere in an event is scanned, known shape or not: the
// rrweb walk is the generic JSON walk (json.go) plus one rule, applied by
// position: the value of a password or card input (its value attribute, and
// later input events, text and attribute mutations for the same node id) is
// masked whole.
//
// The walk is a single pass, but the facts a rule needs may come after the
// value they decide (an element's tagName after its attributes, an input's
// type attribute after its value, an event's type after its data). Such a
// value is scrubbed as ordinary text and remembered (pending); when its
// object closes and turns out sensitive, the value's output is replaced by
// the masked value. An event whose type comes after its data is walked with
// the rules of every event type it may be; if a rule fired that the type
// does not allow, the event is walked again with the types looked up first.

// Rule families, by the event type (and source) that allows them.
const (
	famNode  uint8 = 1 << iota // FullSnapshot node tree (type 2)
	famMut                     // Mutation (type 3, source 0)
	famInput                   // Input (type 3, source 5)
)

// rrState is the rrweb walk's state for one batch.
type rrState struct {
	exact   bool  // look event types and sources up before walking data
	fired   uint8 // families that masked something in the current event
	pend    []pending
	snaps   []int32 // count deltas of pending values
	added   []int64 // ids added to the ReplayState by this batch
	full    bool    // the ReplayState's full flag before this batch
	counts  []int32 // counts at the start of the current event
	lookups bool    // rules that make lookups mandatory (see rrweb)

	events eventsMode // RRWebEvents (rrweb_events.go)
}

// pending is a value scrubbed as ordinary text whose object may still
// turn out sensitive.
type pending struct {
	vs, ve int // input bounds of the value
	os, oe int // its output bounds
	snap   int // offset in snaps of the counts its walk added
}

// Frame kinds: what decides that a value is masked whole.
const (
	kNode uint8 = iota // element: type 2, form tag, sensitive attributes
	kMut               // attribute mutation: known id or sensitive attributes
	kID                // text mutation or input event: known id
	kAdd               // an element of adds: its node
)

// frame collects the facts of one rrweb object, first occurrence of each
// key only (as a reader that looks a key up would see them).
type frame struct {
	kind, fam uint8
	seen      uint8
	typOK     bool
	idOK      bool
	srcOK     bool
	tagForm   bool
	attrsObj  bool
	attrsDone bool // the first attributes object closed: its facts are final
	attrsSens bool // it marks a password or card input
	attrSeen  uint8
	typ, id   int64
	src       int64
	pend      int // this frame's pendings start at w.rr.pend[pend]
}

const (
	sType uint8 = 1 << iota
	sTag
	sAttrs
	sID
	sSource
)

// rrweb scrubs a batch of events.
func (w *walker) rrweb(b []byte, st *ReplayState) (out []byte, err error) {
	if len(b) > 1<<31-1 {
		return nil, fmt.Errorf("scrub: %w: over 2 GiB", ErrTooLarge)
	}
	w.begin(b, 0, true)
	w.ids = st
	rr := &w.rr
	rr.fired, rr.pend, rr.snaps, rr.added, rr.full = 0, rr.pend[:0], rr.snaps[:0], rr.added[:0], st.full
	// Rules that give rrweb's keys a meaning, or dotted safe paths, make
	// the generic walk of a value differ from its rrweb walk even when no
	// rule fires, so guessing an event's type is not safe with them.
	rr.lookups = w.s.c.schemaOverride || len(w.s.c.safePaths) > 0
	rr.exact = rr.lookups
	defer func() {
		if err != nil { // a rejected batch leaves the session state as it was
			for _, id := range rr.added {
				delete(st.ids, id)
			}
			st.full = rr.full
		}
	}()
	defer catch(&err)
	if w.i >= len(b) {
		w.fail(syntaxErr(w.i, "unexpected end of input"))
	}
	if b[w.i] != '[' {
		// Not an array: invalid JSON is still reported as such.
		kind := kindName(b[w.i])
		w.value(keyPlain)
		w.finish()
		return nil, fmt.Errorf("scrub: %w (got a JSON %s)", ErrRRWebShape, kind)
	}
	if w.open(']') >= 0 {
		for {
			w.visitEvent()
			if w.next(']') {
				break
			}
		}
	}
	w.endEvents()
	return w.result(), nil
}

func kindName(c byte) string {
	switch {
	case c == '{':
		return "object"
	case c == '"':
		return "string"
	case c == '-' || isDigit(c):
		return "number"
	default:
		return "literal"
	}
}

// event scrubs one event at w.i.
func (w *walker) event() {
	in := w.in
	if w.i >= len(in) || in[w.i] != '{' {
		w.value(keyPlain)
		return
	}
	rr := &w.rr
	start, outLen, pos, hadOut, added := w.i, len(w.out), w.pos, w.out != nil, len(rr.added)
	rr.counts = append(rr.counts[:0], w.sc.counts...)
	rr.fired = 0
	typ, typOK, src, srcOK, datas := w.eventMembers()
	if rr.exact || rr.fired == 0 {
		return
	}
	f := rr.fired
	if datas == 1 && (f&famNode == 0 || typOK && typ == 2) &&
		(f&(famMut|famInput) == 0 || typOK && typ == 3 && srcOK && (f&famMut == 0 || src == 0) && (f&famInput == 0 || src == 5)) {
		return
	}
	// A rule fired that this event's type does not allow: walk it again
	// with the types known.
	if hadOut {
		w.out = w.out[:outLen]
	} else {
		w.out = nil
	}
	w.pos, w.i = pos, start
	copy(w.sc.counts, rr.counts)
	for _, id := range rr.added[added:] {
		delete(w.ids.ids, id)
	}
	rr.added = rr.added[:added]
	rr.exact = true
	w.eventMembers()
	rr.exact = rr.lookups
}

// eventMembers walks the event object at w.i and returns its type and the
// source of its data, and how many data objects it has.
func (w *walker) eventMembers() (typ int64, typOK bool, src int64, srcOK bool, datas int) {
	seenType := false
	if w.rr.exact {
		if v := lookField(w.in, w.i, "type"); v >= 0 {
			typ, typOK = intAt(w.in, v)
		}
		seenType = true
	}
	if w.open('}') < 0 {
		return
	}
	for {
		ks, ke, esc := w.key()
		vs := w.i
		handled := false
		if !esc {
			switch string(w.in[ks:ke]) {
			case "type":
				if !seenType {
					seenType = true
					typ, typOK = intAt(w.in, w.i)
				}
			case "data":
				if w.i < len(w.in) && w.in[w.i] == '{' {
					datas++
					src, srcOK = w.data(typ, typOK, seenType)
					handled = true
				}
			}
		}
		if !handled {
			w.member(ks, ke, esc, keyPlain)
		}
		w.eventMember(ks, ke, vs, esc)
		if w.next('}') {
			return
		}
	}
}

// data walks an event's data object at w.i. With the event type unknown
// (known false) every family's rules apply and event checks them after.
func (w *walker) data(typ int64, typOK, known bool) (int64, bool) {
	var arm uint8
	switch {
	case !known:
		arm = famNode | famMut | famInput
	case !typOK:
	case typ == 2:
		arm = famNode
	case typ == 3 && w.rr.exact:
		if v := lookField(w.in, w.i, "source"); v >= 0 {
			switch src, ok := intAt(w.in, v); {
			case ok && src == 0:
				arm = famMut
			case ok && src == 5:
				arm = famInput
			}
		}
	case typ == 3:
		arm = famMut | famInput
	}
	f := frame{kind: kID, fam: famInput, pend: len(w.rr.pend)}
	if w.open('}') >= 0 {
		for {
			ks, ke, esc := w.key()
			if esc || !w.dataMember(&f, arm, ks, ke) {
				w.member(ks, ke, esc, keyPlain)
			}
			if w.next('}') {
				break
			}
		}
	}
	if arm&famInput != 0 {
		w.close(&f)
	}
	return f.src, f.srcOK
}

func (w *walker) dataMember(f *frame, arm uint8, ks, ke int) bool {
	c := w.peek()
	switch key := w.in[ks:ke]; string(key) {
	case "node":
		if arm&famNode != 0 {
			w.node(famNode)
			return true
		}
	case "adds", "attributes", "texts":
		if arm&famMut != 0 && c == '[' {
			w.list(key[1], famMut) // a'd'ds, a't'tributes, t'e'xts
			return true
		}
	case "source":
		if f.seen&sSource == 0 {
			f.seen |= sSource
			f.src, f.srcOK = intAt(w.in, w.i)
		}
	case "id":
		w.idFact(f)
	case "text":
		if arm&famInput != 0 {
			return w.maskable(f, ks, ke)
		}
	}
	return false
}

// list walks an array of 'c'hildNodes, a'd'ds, a't'tributes (mutations)
// or t'e'xts.
func (w *walker) list(kind byte, fam uint8) {
	if w.open(']') < 0 {
		return
	}
	fk := kNode
	switch kind {
	case 'd':
		fk = kAdd
	case 't':
		fk = kMut
	case 'e':
		fk = kID
	}
	for {
		w.object(fk, fam)
		if w.next(']') {
			return
		}
	}
}

func (w *walker) peek() byte {
	if w.i < len(w.in) {
		return w.in[w.i]
	}
	return 0
}

// rrKeyAt is what the member key in[ks:ke] means to the rrweb walk: its
// memo entry's id (e, when the memo knew it), else the key's own.
func (w *walker) rrKeyAt(ks, ke int, esc bool, e *memoEntry) rrKey {
	if e != nil {
		return e.id
	}
	if esc {
		return rkOther
	}
	return rrKeyOf(w.in[ks:ke])
}

// object walks an rrweb object of the given frame kind at w.i; anything
// else is walked generically.
func (w *walker) object(kind, fam uint8) {
	if w.peek() != '{' {
		w.value(keyPlain)
		return
	}
	f := frame{kind: kind, fam: fam, pend: len(w.rr.pend)}
	if ks, ke, esc, e, empty := w.openMember(); !empty {
		for {
			id := w.rrKeyAt(ks, ke, esc, e)
			if id == rkOther || !w.objMember(&f, id, ks, ke) {
				if e != nil && !w.paths { // plainMember, inline
					w.value(keyClass(e.flags & kcClass))
				} else {
					w.member(ks, ke, esc, keyPlain)
				}
			} else if e == nil && !esc && !w.s.c.schemaOverride {
				// A key the walk handled (type, id, attributes,
				// childNodes, value, node) is a schema key: plain and
				// not scanned.
				w.sc.memo.put(w.in, ks, ke, uint8(keyPlain)|kcClassKnown|kcScanned)
			}
			var closed bool
			if ks, ke, esc, e, closed = w.nextMember(); closed {
				break
			}
		}
	}
	// Most nodes are not form controls: their close has nothing to do.
	if f.kind != kNode || f.seen&sType == 0 || f.typOK && f.typ == 2 && !(f.seen&sTag != 0 && !f.tagForm) || len(w.rr.pend) > f.pend {
		w.close(&f)
	}
}

// plainMember walks a member under a plain parent, with the class its
// memo entry e (if any) knows.
func (w *walker) plainMember(ks, ke int, esc bool, e *memoEntry) {
	if e != nil && !w.paths {
		w.value(keyClass(e.flags & kcClass))
		return
	}
	w.member(ks, ke, esc, keyPlain)
}

// objMember handles the member with key id (in[ks:ke], value at w.i) when
// the frame's kind gives it a meaning; it reports whether it walked the
// value.
func (w *walker) objMember(f *frame, id rrKey, ks, ke int) bool {
	switch f.kind {
	case kNode:
		switch id {
		case rkType:
			if f.seen&sType == 0 {
				f.seen |= sType
				return w.intMember(&f.typ, &f.typOK)
			}
		case rkTagName:
			if f.seen&sTag == 0 {
				f.seen |= sTag
				if v, ok := w.peekShort(); ok {
					f.tagForm = formTag(v)
				} else if v, ok := w.peekString(); ok {
					f.tagForm = formTag(v)
				}
			}
		case rkID:
			if f.seen&sID == 0 {
				f.seen |= sID
				return w.intMember(&f.id, &f.idOK)
			}
		case rkAttributes:
			return w.attrs(f, w.peek())
		case rkChildNodes:
			if w.peek() == '[' {
				w.list('c', f.fam)
				return true
			}
		}
	case kMut:
		switch id {
		case rkID:
			w.idFact(f)
		case rkAttributes:
			return w.attrs(f, w.peek())
		}
	case kID:
		switch id {
		case rkID:
			w.idFact(f)
		case rkValue:
			return w.maskable(f, ks, ke)
		}
	case kAdd:
		if id == rkNode {
			w.node(f.fam)
			return true
		}
	}
	return false
}

func (w *walker) node(fam uint8) { w.object(kNode, fam) }

// intMember records the integer value of a node's type or id (its
// value at w.i) in v and ok. A plain integer is parsed once and
// walked here (these schema keys are plain, see plainMember).
func (w *walker) intMember(v *int64, ok *bool) bool {
	in, i := w.in, w.i
	if w.rr.lookups {
		*v, *ok = intAt(in, i)
		return false
	}
	// One to seven digits and the byte after them in one word: find the
	// first non-digit without a loop (exact per byte, no carries).
	if i+8 <= len(in) {
		t := load64(in, i) ^ '0'*lo7 // digits become 0-9
		nd := (t&(0xF0*lo7) | (t&(0x0F*lo7) + 6*lo7)) & (0xF0 * lo7)
		l := bits.TrailingZeros64(nd) >> 3 // digits before the first non-digit
		if l > 0 && l < 8 && (l == 1 || byte(t) != 0) {
			// The byte after the digits is in the word too.
			if c := byte(t>>(8*l)) ^ '0'; c != '.' && c != 'e' && c != 'E' {
				*v, *ok = int64(digits8(t&lowMask(l)<<(64-8*l))), true
				w.i = i + l
				return true
			}
		}
	}
	var x int64
	j := i
	for ; j < len(in); j++ { // more than 12 digits are not taken below
		d := in[j] - '0'
		if d > 9 {
			break
		}
		x = x*10 + int64(d)
	}
	if j == i || j-i > 12 || j < len(in) && (isDigit(in[j]) || in[j] == '.' || in[j] == 'e' || in[j] == 'E') ||
		in[i] == '0' && j > i+1 {
		*v, *ok = intAt(in, i)
		return false
	}
	*v, *ok = x, true
	w.i = j
	return true
}

// digits8 returns the value of eight decimal digits (byte values 0-9,
// the most significant in the low byte), three multiplications instead
// of a loop.
func digits8(v uint64) uint64 {
	v = v * 2561 >> 8
	v = (v & 0x00FF00FF00FF00FF) * 6553601 >> 16
	return (v & 0x0000FFFF0000FFFF) * 42949672960001 >> 32
}

func (w *walker) idFact(f *frame) {
	if f.seen&sID == 0 {
		f.seen |= sID
		f.id, f.idOK = intAt(w.in, w.i)
	}
}

// peekShort is peekString for the common case of a plain string of up
// to seven bytes ("div", "input"): one word load finds its closing quote.
func (w *walker) peekShort() ([]byte, bool) {
	in, i := w.in, w.i
	if i+9 > len(in) || in[i] != '"' {
		return nil, false
	}
	m := swarSpecialASCII(load64(in, i+1))
	if m == 0 {
		return nil, false
	}
	l := bits.TrailingZeros64(m) >> 3
	if in[i+1+l] != '"' {
		return nil, false
	}
	return in[i+1 : i+1+l], true
}

// peekString returns the decoded string at w.i without moving past it.
func (w *walker) peekString() ([]byte, bool) {
	if w.peek() != '"' {
		return nil, false
	}
	s := w.i + 1
	e := strEnd(w.in, s)
	esc := false
	if e >= len(w.in) || w.in[e] != '"' {
		var err error
		if e, esc, err = slowString(w.in, s, e); err != nil {
			return nil, false // the walk reports it
		}
	}
	return w.content(s, e, esc), true
}

// lookField returns the offset of the value of the first unescaped key
// name in the object at i, or -1. The object may be invalid (it has not
// been walked yet): the walk reports that.
func lookField(b []byte, i int, name string) int {
	i = skipWS(b, i+1)
	for i < len(b) && b[i] == '"' {
		ks := i + 1
		ke := skipString(b, i) - 1
		if ke >= len(b) {
			return -1
		}
		if i = skipWS(b, ke+1); i >= len(b) || b[i] != ':' {
			return -1
		}
		if i = skipWS(b, i+1); i >= len(b) {
			return -1
		}
		if string(b[ks:ke]) == name {
			return i
		}
		if i = skipWS(b, skipValue(b, i)); i >= len(b) || b[i] != ',' {
			return -1
		}
		i = skipWS(b, i+1)
	}
	return -1
}

// intAt returns the value of the integer at b[i:] (no sign other than a
// leading '-', no fraction or exponent), as a reader of rrweb ids and types
// takes it.
func intAt(b []byte, i int) (int64, bool) {
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	var v int64
	s := i
	for ; i < len(b) && isDigit(b[i]); i++ {
		if v > 1<<50 {
			return 0, false
		}
		v = v*10 + int64(b[i]-'0')
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i] == '+' || b[i] == '-') || i == s && !neg {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}
