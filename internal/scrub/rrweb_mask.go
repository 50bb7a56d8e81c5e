package scrub

import (
	"bytes"
	"slices"
)

// What the rrweb walk masks whole: the facts a node's attributes give
// (type, autocomplete, name, id), the decision they lead to, and values
// held until the decision is known.

// attrs handles an "attributes" member of a node or attribute mutation
// (c: the first byte of its value): the first one's type, autocomplete,
// name and id are facts; "value" is masked when the frame is sensitive.
func (w *walker) attrs(f *frame, c byte) bool {
	first := f.seen&sAttrs == 0
	if first {
		f.seen |= sAttrs
		f.attrsObj = c == '{'
	}
	if c != '{' {
		return false
	}
	if ks, ke, esc, e, empty := w.openMember(); !empty {
		for {
			id := w.rrKeyAt(ks, ke, esc, e)
			handled := false
			if id != rkOther {
				if first {
					w.attrFact(f, id)
				}
				if id == rkValue {
					handled = w.maskable(f, ks, ke)
				}
			}
			if !handled {
				w.plainMember(ks, ke, esc, e)
			}
			var closed bool
			if ks, ke, esc, e, closed = w.nextMember(); closed {
				break
			}
		}
	}
	if first {
		f.attrsDone = true
	}
	return true
}

// Attribute facts, first occurrence of each.
const (
	aType uint8 = 1 << iota
	aAutocomplete
	aName
	aID
)

// attrFact records what the attribute key (value at w.i) says about the
// form control: type=password, a payment or password autocomplete token,
// or a sensitive name or id.
func (w *walker) attrFact(f *frame, id rrKey) {
	var bit uint8
	switch id {
	case rkType:
		bit = aType
	case rkAutocomplete:
		bit = aAutocomplete
	case rkName:
		bit = aName
	case rkID:
		bit = aID
	default:
		return
	}
	if f.attrSeen&bit != 0 {
		return
	}
	f.attrSeen |= bit
	v, ok := w.peekString()
	if !ok {
		return
	}
	switch bit {
	case aType:
		f.attrsSens = f.attrsSens || bytes.EqualFold(bytes.TrimSpace(v), []byte("password"))
	case aAutocomplete:
		for _, t := range bytes.Fields(v) {
			for _, a := range sensitiveAutocomplete {
				if bytes.EqualFold(t, []byte(a)) {
					f.attrsSens = true
				}
			}
		}
	default:
		f.attrsSens = f.attrsSens || w.sc.classify(v) == keySensitive
	}
}

// sensitiveAutocomplete are autocomplete tokens of secret or payment fields.
var sensitiveAutocomplete = [...]string{
	"cc-number", "cc-csc", "cc-exp", "cc-exp-month", "cc-exp-year", "cc-name",
	"cc-given-name", "cc-family-name", "current-password", "new-password", "one-time-code",
}

// formTag reports whether an element's tag name is a form control whose
// value may be a secret.
func formTag(tag []byte) bool {
	switch len(tag) {
	case 5, 6, 8:
		return bytes.EqualFold(tag, []byte("input")) || bytes.EqualFold(tag, []byte("select")) || bytes.EqualFold(tag, []byte("textarea"))
	}
	return false
}

// decide returns 1 when frame f is sensitive, -1 when it is not, 0 when
// facts still to come may decide (only before final).
func (w *walker) decide(f *frame, final bool) int8 {
	switch f.kind {
	case kNode: // type 2, a form tag, and the first attributes sensitive
		if f.seen&sType != 0 && !(f.typOK && f.typ == 2) || f.seen&sTag != 0 && !f.tagForm || f.seen&sAttrs != 0 && !f.attrsObj {
			return -1
		}
		if f.seen&(sType|sTag|sAttrs) == sType|sTag|sAttrs && f.attrsSens {
			return 1
		}
		if final || f.attrsDone {
			return -1
		}
	case kMut: // a known id, or sensitive first attributes
		if f.seen&sID != 0 && f.idOK && w.ids.has(f.id) || f.attrsSens {
			return 1
		}
		if final || f.seen&sID != 0 && f.seen&sAttrs != 0 && (f.attrsDone || !f.attrsObj) {
			return -1
		}
	case kID: // a known id
		if f.seen&sID != 0 {
			if f.idOK && w.ids.has(f.id) {
				return 1
			}
			return -1
		}
		if final {
			return -1
		}
	default:
		return -1
	}
	return 0
}

// maskable walks the value of the member with key in[ks:ke] that frame f
// masks whole when sensitive: at once when that is decided, otherwise as
// ordinary text, remembered as pending. It reports whether it walked the
// value.
func (w *walker) maskable(f *frame, ks, ke int) bool {
	switch w.decide(f, false) {
	case 1:
		w.value(keySensitive)
		return true
	case -1:
		return false
	}
	rr := &w.rr
	cl, pushed := w.memberKey(ks, ke, false, keyPlain)
	vs, os := w.i, w.outPos(w.i)
	snap := len(rr.snaps)
	rr.snaps = append(rr.snaps, w.sc.counts...)
	w.value(cl)
	if pushed {
		w.path = w.path[:len(w.path)-1]
	}
	for d, n := range w.sc.counts {
		rr.snaps[snap+d] = n - rr.snaps[snap+d]
	}
	rr.pend = append(rr.pend, pending{vs: vs, ve: w.i, os: os, oe: w.outPos(w.i), snap: snap})
	return true
}

// close settles frame f when its object ends: a sensitive frame records
// its id and masks its pending values.
func (w *walker) close(f *frame) {
	rr := &w.rr
	if w.decide(f, true) == 1 {
		rr.fired |= f.fam
		if f.idOK && (f.kind == kNode || f.kind == kMut && f.attrsSens) && w.ids.add(f.id) {
			rr.added = append(rr.added, f.id)
		}
		for k := len(rr.pend) - 1; k >= f.pend; k-- {
			w.resolve(rr.pend[k])
		}
	}
	if len(rr.pend) > f.pend {
		rr.snaps = rr.snaps[:rr.pend[f.pend].snap]
		rr.pend = rr.pend[:f.pend]
	}
}

// resolve replaces the output of pending value p by its masked form.
func (w *walker) resolve(p pending) {
	for d := range w.sc.counts {
		w.sc.counts[d] -= w.rr.snaps[p.snap+d]
	}
	sub := w.s.get()
	sub.ids = w.ids
	sub.begin(w.in[p.vs:p.ve], w.depth, w.mask)
	sub.value(keySensitive)
	repl := sub.result()
	w.absorb(sub)
	w.edit(w.i, w.i, nil) // out holds everything so far
	w.out = slices.Replace(w.out, p.os, p.oe, repl...)
	w.s.put(sub)
}
