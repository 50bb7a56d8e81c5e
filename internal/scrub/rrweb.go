package scrub

import (
	"bytes"
	"fmt"
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
// Every string anywhere in an event is scanned, known shape or not; the
// walk by type adds what needs context: attribute names, password and card
// inputs (their value attribute, and later input events and attribute
// mutations for the same node id, are masked whole).

// ReplayState remembers, across the batches of one session, the node ids of
// inputs whose values are always masked. The zero value is ready to use;
// it is not safe for concurrent use.
type ReplayState struct {
	ids  map[int64]struct{}
	full bool // too many ids: mask every input from now on
}

const maxStateIDs = 1 << 16

func (st *ReplayState) reset() {
	clear(st.ids)
	st.full = false
}

func (st *ReplayState) add(id int64) {
	if st.full {
		return
	}
	if st.ids == nil {
		st.ids = make(map[int64]struct{})
	}
	if len(st.ids) >= maxStateIDs {
		st.full = true
		return
	}
	st.ids[id] = struct{}{}
}

func (st *ReplayState) has(id int64) bool {
	if st.full {
		return true
	}
	_, ok := st.ids[id]
	return ok
}

// rrweb scrubs a batch of events.
func (w *walker) rrweb(b []byte, st *ReplayState) ([]byte, error) {
	var err error
	w.tape, w.stack, err = parse(b, w.tape, w.stack, w.s.limits.MaxDepth)
	if err != nil {
		return nil, err
	}
	if w.tape[0].kind != tArr {
		return nil, fmt.Errorf("scrub: %w (got a JSON %s)", ErrRRWebShape, kindName(w.tape[0].kind))
	}
	w.in, w.out, w.pos, w.mask, w.depth, w.ids = b, nil, 0, true, 0, st
	w.path = w.path[:0]
	for k := 1; k < int(w.tape[0].next); {
		k = w.event(k)
	}
	return w.result(), nil
}

func kindName(k uint8) string {
	switch k {
	case tObj:
		return "object"
	case tStr:
		return "string"
	case tNum:
		return "number"
	default:
		return "literal"
	}
}

// field returns the tape index of the value of key name in object oi, or -1.
func (w *walker) field(oi int, name string) int {
	t := w.tape[oi]
	if t.kind != tObj {
		return -1
	}
	for k := oi + 1; k < int(t.next); k = int(w.tape[k+1].next) {
		kt := w.tape[k]
		if !kt.esc && string(w.in[kt.start:kt.end]) == name {
			return k + 1
		}
	}
	return -1
}

// intField returns the integer value of key name in object oi.
func (w *walker) intField(oi int, name string) (int64, bool) {
	return w.intValue(w.field(oi, name))
}

// intValue returns the integer value at tape index vi (-1: none).
func (w *walker) intValue(vi int) (int64, bool) {
	if vi < 0 || w.tape[vi].kind != tNum {
		return 0, false
	}
	t := w.tape[vi]
	raw := w.in[t.start:t.end]
	neg := raw[0] == '-'
	if neg {
		raw = raw[1:]
	}
	var v int64
	for _, c := range raw {
		if !isDigit(c) || v > 1<<50 {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// strField returns the decoded string value of key name in object oi.
// The result may live in a scratch buffer until the next call.
func (w *walker) strField(oi int, name string) []byte {
	vi := w.field(oi, name)
	if vi < 0 || w.tape[vi].kind != tStr {
		return nil
	}
	return w.content(w.tape[vi])
}

// members calls fn for each key/value of object oi; fn returns whether it
// handled the pair, otherwise the pair is scrubbed generically.
func (w *walker) members(oi int, fn func(key []byte, vi int) bool) {
	t := w.tape[oi]
	for k := oi + 1; k < int(t.next); {
		kt := w.tape[k]
		if !kt.esc && fn(w.in[kt.start:kt.end], k+1) {
			k = int(w.tape[k+1].next)
			continue
		}
		k = w.member(k, keyPlain)
	}
}

// event scrubs one event at ti.
func (w *walker) event(ti int) int {
	t := w.tape[ti]
	if t.kind != tObj {
		return w.value(ti, keyPlain)
	}
	typ, _ := w.intField(ti, "type")
	w.members(ti, func(key []byte, vi int) bool {
		if string(key) != "data" || w.tape[vi].kind != tObj {
			return false
		}
		w.eventData(typ, vi)
		return true
	})
	return int(t.next)
}

func (w *walker) eventData(typ int64, di int) {
	switch typ {
	case 2: // FullSnapshot
		w.members(di, func(key []byte, vi int) bool {
			if string(key) != "node" {
				return false
			}
			w.node(vi)
			return true
		})
	case 3: // IncrementalSnapshot
		src, _ := w.intField(di, "source")
		switch src {
		case 0:
			w.mutation(di)
		case 5:
			w.input(di)
		default:
			w.value(di, keyPlain)
		}
	default:
		w.value(di, keyPlain)
	}
}

// node scrubs a serialized node and its children.
func (w *walker) node(ni int) {
	t := w.tape[ni]
	if t.kind != tObj {
		w.value(ni, keyPlain)
		return
	}
	// One pass finds the keys the walk needs (the first of each, as field
	// does): nodes are the bulk of a snapshot, and looking each key up
	// separately walked every node's keys three or four times.
	ti, ai, tagi, idi := -1, -1, -1, -1
	for k := ni + 1; k < int(t.next); k = int(w.tape[k+1].next) {
		kt := w.tape[k]
		if kt.esc {
			continue
		}
		switch string(w.in[kt.start:kt.end]) {
		case "type":
			ti = firstIdx(ti, k+1)
		case "attributes":
			ai = firstIdx(ai, k+1)
		case "tagName":
			tagi = firstIdx(tagi, k+1)
		case "id":
			idi = firstIdx(idi, k+1)
		}
	}
	typ, _ := w.intValue(ti)
	sensitive := false
	if typ == 2 && ai >= 0 && w.tape[ai].kind == tObj && tagi >= 0 && w.tape[tagi].kind == tStr {
		sensitive = formTag(w.content(w.tape[tagi])) && w.sensitiveAttrs(ai)
		if sensitive {
			if id, ok := w.intValue(idi); ok {
				w.ids.add(id)
			}
		}
	}
	for k := ni + 1; k < int(t.next); {
		kt, vi := w.tape[k], k+1
		vt := w.tape[vi]
		if !kt.esc {
			switch string(w.in[kt.start:kt.end]) {
			case "attributes":
				if vt.kind == tObj {
					w.attrs(vi, sensitive)
					k = int(vt.next)
					continue
				}
			case "childNodes":
				if vt.kind == tArr {
					for c := vi + 1; c < int(vt.next); c = int(w.tape[c].next) {
						w.node(c)
					}
					k = int(vt.next)
					continue
				}
			}
		}
		k = w.member(k, keyPlain)
	}
}

// firstIdx keeps the first index found (cur) over a later one (k).
func firstIdx(cur, k int) int {
	if cur < 0 {
		return k
	}
	return cur
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

// attrs scrubs an attributes object; sensitive masks the value attribute.
func (w *walker) attrs(ai int, sensitive bool) {
	w.members(ai, func(key []byte, vi int) bool {
		if !sensitive || string(key) != "value" {
			return false
		}
		w.value(vi, keySensitive)
		return true
	})
}

// sensitiveAutocomplete are autocomplete tokens of secret or payment fields.
var sensitiveAutocomplete = [...]string{
	"cc-number", "cc-csc", "cc-exp", "cc-exp-month", "cc-exp-year", "cc-name",
	"cc-given-name", "cc-family-name", "current-password", "new-password", "one-time-code",
}

// sensitiveAttrs reports whether a form control's attributes at ai mark
// a password, card or other sensitive input: type=password, a payment or
// password autocomplete token, or a sensitive name or id.
func (w *walker) sensitiveAttrs(ai int) bool {
	if v := w.strField(ai, "type"); bytes.EqualFold(bytes.TrimSpace(v), []byte("password")) {
		return true
	}
	if v := w.strField(ai, "autocomplete"); v != nil {
		for _, f := range bytes.Fields(v) {
			for _, a := range sensitiveAutocomplete {
				if bytes.EqualFold(f, []byte(a)) {
					return true
				}
			}
		}
	}
	for _, name := range [...]string{"name", "id"} {
		if v := w.strField(ai, name); v != nil && w.sc.classify(v) == keySensitive {
			return true
		}
	}
	return false
}

// mutation scrubs an incremental Mutation.
func (w *walker) mutation(di int) {
	w.members(di, func(key []byte, vi int) bool {
		t := w.tape[vi]
		if t.kind != tArr {
			return false
		}
		switch string(key) {
		case "adds":
			for k := vi + 1; k < int(t.next); k = int(w.tape[k].next) {
				if w.tape[k].kind != tObj {
					w.value(k, keyPlain)
					continue
				}
				w.members(k, func(key []byte, ni int) bool {
					if string(key) != "node" {
						return false
					}
					w.node(ni)
					return true
				})
			}
		case "attributes":
			for k := vi + 1; k < int(t.next); k = int(w.tape[k].next) {
				w.attrMutation(k)
			}
		case "texts":
			for k := vi + 1; k < int(t.next); k = int(w.tape[k].next) {
				w.idValue(k, "value")
			}
		default:
			return false
		}
		return true
	})
}

// attrMutation scrubs {id, attributes: {...}}.
func (w *walker) attrMutation(k int) {
	if w.tape[k].kind != tObj {
		w.value(k, keyPlain)
		return
	}
	id, ok := w.intField(k, "id")
	sensitive := ok && w.ids.has(id)
	if ai := w.field(k, "attributes"); ai >= 0 && w.tape[ai].kind == tObj && !sensitive && w.sensitiveAttrs(ai) {
		sensitive = true
		if ok {
			w.ids.add(id)
		}
	}
	w.members(k, func(key []byte, ai int) bool {
		if string(key) != "attributes" || w.tape[ai].kind != tObj {
			return false
		}
		w.attrs(ai, sensitive)
		return true
	})
}

// idValue scrubs {id, <field>: text}, masking it whole for sensitive ids.
func (w *walker) idValue(k int, field string) {
	if w.tape[k].kind != tObj {
		w.value(k, keyPlain)
		return
	}
	id, ok := w.intField(k, "id")
	sensitive := ok && w.ids.has(id)
	w.members(k, func(key []byte, vi int) bool {
		if !sensitive || string(key) != field {
			return false
		}
		w.value(vi, keySensitive)
		return true
	})
}

// input scrubs an Input event ({source: 5, id, text, isChecked}).
func (w *walker) input(di int) { w.idValue(di, "text") }

// schemaKeys are rrweb's own keys and common HTML attribute names. They are
// never field names with a meaning for scrubbing (unless the rules say so,
// see compiled.schemaOverride), so the walk skips splitting them into words.
var schemaKeys = map[string]bool{}

func init() {
	for _, k := range []string{
		"type", "id", "data", "timestamp", "delay", "source", "node", "childNodes", "tagName",
		"attributes", "textContent", "isStyle", "isSVG", "needBlock", "isCustom", "rootId",
		"compatMode", "name", "publicId", "systemId", "initialOffset", "top", "left", "adds",
		"removes", "texts", "parentId", "nextId", "previousId", "isShadow", "isShadowHost",
		"isAttachIframe", "positions", "x", "y", "timeOffset", "href", "width", "height", "text",
		"isChecked", "userTriggered", "plugin", "payload", "level", "trace", "tag", "class",
		"style", "src", "rel", "lang", "dir", "role", "content", "charset", "value", "title",
		"alt", "placeholder", "action", "method", "target", "for", "hidden", "tabindex", "d",
		"fill", "stroke", "viewBox", "xmlns", "media", "crossorigin", "integrity", "async",
		"defer", "sizes", "srcset", "loading", "rr_src", "_cssText", "rr_width", "rr_height",
		"rr_dataURL", "disabled", "checked", "selected", "colspan", "rowspan", "aria-label",
		"aria-hidden", "data-testid", "pointerType", "url", "status", "startTime", "endTime",
		"initiatorType", "requests", "requestHeaders", "responseHeaders", "requestBody", "responseBody",
	} {
		schemaKeys[k] = true
	}
}

// schemaTable is an open-addressing copy of schemaKeys: a lookup costs a
// hash of three bytes and one comparison, cheaper than a Go map.
var schemaTable [512]string

func schemaHash(k []byte) int {
	return (len(k)*131 + int(k[0])*31 + int(k[len(k)-1])*7 + int(k[len(k)/2])) & 511
}

func init() {
	for k := range schemaKeys {
		h := schemaHash([]byte(k))
		for schemaTable[h] != "" {
			h = (h + 1) & 511
		}
		schemaTable[h] = k
	}
}

// schemaKey reports whether key is one of schemaKeys.
func schemaKey(key []byte) bool {
	if len(key) == 0 || len(key) > 16 {
		return false
	}
	for h := schemaHash(key); schemaTable[h] != ""; h = (h + 1) & 511 {
		if schemaTable[h] == string(key) {
			return true
		}
	}
	return false
}
