package scrub

import "fmt"

// The walker's steps between values: entering containers, separators,
// strings and keys. Keys seen before are recognised by the key memo
// (keymemo.go) together with the separator in front of them, so the walk
// of a member usually starts with one step (nextMember, openMember).

// open enters a container at w.i and returns the index of its first
// member or element, or -1 when the container is empty (w.i is then past
// it).
func (w *walker) open(close byte) int {
	if w.nest >= w.limit {
		w.fail(fmt.Errorf("scrub: %w: deeper than MaxDepth %d at offset %d", ErrTooDeep, w.s.limits.MaxDepth, w.i))
	}
	i := skipWS(w.in, w.i+1)
	if i < len(w.in) && w.in[i] == close {
		w.i = i + 1
		return -1
	}
	w.nest++
	w.i = i
	return i
}

// next moves past the separator after a member or element: it returns true
// when the container closed (and leaves w.i past it). The common case, a
// comma right before the next value, is inlined.
func (w *walker) next(close byte) bool {
	if i := w.i; i+2 <= len(w.in) {
		// The separator and the byte after it in one load.
		if x := load16(w.in, i); x&0xFF == ',' && x>>8 > ' ' {
			w.i = i + 1
			return false
		} else if byte(x) == close {
			w.i = i + 1
			w.nest--
			return true
		}
	}
	return w.nextSlow(close)
}

func (w *walker) nextSlow(close byte) bool {
	in := w.in
	i := w.i
	if i < len(in) && in[i] <= ' ' {
		i = skipWS(in, i)
	}
	if i >= len(in) {
		w.fail(syntaxErr(i, "unexpected end of input"))
	}
	switch in[i] {
	case ',':
		w.i = skipWS(in, i+1)
		return false
	case close:
		w.i = i + 1
		w.nest--
		return true
	}
	w.fail(syntaxErr(i, "expected ',' or a closing bracket"))
	return false
}

// str parses the string whose opening quote is at w.i and returns its
// content bounds and whether it has escapes; w.i moves past it. Plain
// ASCII strings without escapes, the bulk of every document, are found
// eight bytes at a time.
func (w *walker) str() (int, int, bool) {
	s := w.i + 1
	j := strEnd(w.in, s)
	if j < len(w.in) && w.in[j] == '"' {
		w.i = j + 1
		return s, j, false
	}
	e, esc, err := slowString(w.in, s, j)
	if err != nil {
		w.fail(err)
	}
	w.i = e + 1
	return s, e, esc
}

// key parses an object key at w.i and the colon after it; w.i moves to
// the value.
func (w *walker) key() (int, int, bool) {
	if w.i >= len(w.in) || w.in[w.i] != '"' {
		w.fail(syntaxErr(w.i, "expected a string key"))
	}
	ks, ke, esc := w.str()
	i := w.i
	if i >= len(w.in) || w.in[i] != ':' {
		if i = skipWS(w.in, i); i >= len(w.in) || w.in[i] != ':' {
			w.fail(syntaxErr(i, "expected ':' after a key"))
		}
	}
	w.i = skipWS(w.in, i+1)
	return ks, ke, esc
}

// nextKey is key with the key memo: e is the memo entry of a key seen
// before (memoised by memberKey, so its class is known).
func (w *walker) nextKey() (ks, ke int, esc bool, e *memoEntry) {
	in, i := w.in, w.i
	if i < len(in) && in[i] == '"' {
		// The common case inline: a key of up to 16 bytes in the first way
		// of its set, followed by '":' and no space: two masked word
		// compares and one two-byte compare, no bounds checks (33 bytes
		// follow i+1).
		if i+maxMemoKey+2 <= len(in) {
			x0 := load64(in, i+1)
			e = &w.sc.memo.set(x0)[0]
			n := int(e.n)
			if e.n-1 < 16 && x0&e.m[0] == e.w[0] && load64(in, i+9)&e.m[1] == e.w[1] &&
				load16(in, i+1+n) == '"'|':'<<8 && load8(in, i+3+n) > ' ' {
				w.i = i + 3 + n
				return i + 1, i + 1 + n, false, e
			}
		}
		return w.nextKeyMiss()
	}
	ks, ke, esc = w.key()
	return ks, ke, esc, nil
}

// nextKeyMiss is nextKey after its inline check missed (w.i is at the
// key's opening quote): the memo's other way and longer keys, then key.
func (w *walker) nextKeyMiss() (ks, ke int, esc bool, e *memoEntry) {
	in, i := w.in, w.i
	if e = w.sc.memo.get(in, i+1); e != nil {
		ke = i + 1 + int(e.n) // get checked the bytes up to ke+1
		if in[ke+1] == ':' {
			j := ke + 2
			if in[j] <= ' ' {
				j = skipWS(in, j)
			}
			w.i = j
			return i + 1, ke, false, e
		}
	}
	ks, ke, esc = w.key()
	return ks, ke, esc, nil
}

// nextMember is next('}') followed by nextKey when the object goes on
// (closed reports that it ended). Its common case, `,"key":` with the key
// in the first way of the memo, is one two-byte compare more than
// nextKey's, without the calls.
func (w *walker) nextMember() (ks, ke int, esc bool, e *memoEntry, closed bool) {
	in, i := w.in, w.i
	if i+maxMemoKey+3 <= len(in) && load16(in, i) == ','|'"'<<8 {
		x0 := load64(in, i+2)
		e = &w.sc.memo.set(x0)[0]
		n := int(e.n)
		if e.n-1 < 16 && x0&e.m[0] == e.w[0] && load64(in, i+10)&e.m[1] == e.w[1] &&
			load16(in, i+2+n) == '"'|':'<<8 && load8(in, i+4+n) > ' ' {
			w.i = i + 4 + n
			return i + 2, i + 2 + n, false, e, false
		}
		w.i = i + 1 // next('}') moves past the comma; nextKey missed as above
		ks, ke, esc, e = w.nextKeyMiss()
		return ks, ke, esc, e, false
	}
	if w.next('}') {
		return 0, 0, false, nil, true
	}
	ks, ke, esc, e = w.nextKey()
	return ks, ke, esc, e, false
}

// openMember is open('}') followed by nextKey when the object is not
// empty; its common case, `{"key":` with a memo hit, as in nextMember.
func (w *walker) openMember() (ks, ke int, esc bool, e *memoEntry, empty bool) {
	in, i := w.in, w.i
	if w.nest < w.limit && i+maxMemoKey+3 <= len(in) && load16(in, i) == '{'|'"'<<8 {
		x0 := load64(in, i+2)
		e = &w.sc.memo.set(x0)[0]
		n := int(e.n)
		if e.n-1 < 16 && x0&e.m[0] == e.w[0] && load64(in, i+10)&e.m[1] == e.w[1] &&
			load16(in, i+2+n) == '"'|':'<<8 && load8(in, i+4+n) > ' ' {
			w.nest++
			w.i = i + 4 + n
			return i + 2, i + 2 + n, false, e, false
		}
		w.nest++ // open('}') enters the object; nextKey missed as above
		w.i = i + 1
		ks, ke, esc, e = w.nextKeyMiss()
		return ks, ke, esc, e, false
	}
	if w.open('}') < 0 {
		return 0, 0, false, nil, true
	}
	ks, ke, esc, e = w.nextKey()
	return ks, ke, esc, e, false
}
