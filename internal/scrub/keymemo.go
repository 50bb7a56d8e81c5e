package scrub

// keyMemo recognises object keys seen before straight from the input
// bytes: one or two word compares at the key's start, without finding the
// closing quote first or hashing the key. Documents repeat a few dozen keys
// (a 400 KB rrweb snapshot has 20 000 keys, 25 of them distinct), so this
// replaces the string scan, the key cache lookup and the rrweb key switch
// for nearly every key. Entries are keyed by the key's first three input
// bytes (for keys shorter than three, the bytes after them: `"` and `:`,
// the same every time in compact JSON; other spacing only misses).
type keyMemo [1 << memoBits][2]memoEntry

const memoBits = 9

type memoEntry struct {
	w0, w1 uint64 // the key's bytes, masked to n
	n      uint8  // key length (1-16), 0 for an empty way
	flags  uint8  // keyCache flags (class known and scanned)
	id     rrKey  // what the key means to the rrweb walk
}

// maxMemoKey is the longest key memoised: two words.
const maxMemoKey = 16

// lowMask keeps the low n bytes of a word (1 ≤ n ≤ 8).
func lowMask(n int) uint64 { return ^uint64(0) >> (64 - 8*uint(n)) }

func memoSet(x0 uint64) uint64 { return (x0 & 0xFFFFFF) * 0x9E3779B97F4A7C15 >> (64 - memoBits) }

// get returns the entry for the unescaped key starting at in[ks] (after
// its opening quote), or nil.
func (m *keyMemo) get(in []byte, ks int) *memoEntry {
	if ks+maxMemoKey+1 > len(in) {
		return nil
	}
	x0 := load64(in, ks)
	set := &m[memoSet(x0)&(1<<memoBits-1)]
	if e := &set[0]; e.matches(in, ks, x0) {
		return e
	}
	if e := &set[1]; e.matches(in, ks, x0) {
		return e
	}
	return nil
}

// matches reports whether e holds the key at in[ks:] whose first word is
// x0 (the caller checked that 17 bytes are there).
func (e *memoEntry) matches(in []byte, ks int, x0 uint64) bool {
	n := int(e.n)
	if n <= 8 {
		if n == 0 || x0&lowMask(n) != e.w0 {
			return false
		}
	} else if x0 != e.w0 || load64(in, ks+8)&lowMask(n-8) != e.w1 {
		return false
	}
	// The key's bytes hold no quote, so the next byte decides.
	return in[ks+n] == '"'
}

// put remembers the unescaped key in[ks:ke] with its keyCache flags.
func (m *keyMemo) put(in []byte, ks, ke int, flags uint8) {
	n := ke - ks
	if n == 0 || n > maxMemoKey || ks+maxMemoKey+1 > len(in) {
		return
	}
	x0 := load64(in, ks)
	e := memoEntry{n: uint8(n), flags: flags, id: rrKeyOf(in[ks:ke])}
	if n <= 8 {
		e.w0 = x0 & lowMask(n)
	} else {
		e.w0, e.w1 = x0, load64(in, ks+8)&lowMask(n-8)
	}
	set := &m[memoSet(x0)]
	set[1], set[0] = set[0], e
}

// rrKey names the keys the rrweb walk gives a meaning.
type rrKey uint8

const (
	rkOther rrKey = iota
	rkType
	rkID
	rkTagName
	rkAttributes
	rkChildNodes
	rkValue
	rkName
	rkAutocomplete
	rkNode
)

func rrKeyOf(key []byte) rrKey {
	switch string(key) {
	case "type":
		return rkType
	case "id":
		return rkID
	case "tagName":
		return rkTagName
	case "attributes":
		return rkAttributes
	case "childNodes":
		return rkChildNodes
	case "value":
		return rkValue
	case "name":
		return rkName
	case "autocomplete":
		return rkAutocomplete
	case "node":
		return rkNode
	}
	return rkOther
}
