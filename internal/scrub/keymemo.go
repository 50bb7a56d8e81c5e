package scrub

// keyMemo recognises object keys seen before straight from the input
// bytes: one or two word compares at the key's start, without finding the
// closing quote first or hashing the key. Documents repeat a few dozen keys
// (a 400 KB rrweb snapshot has 20 000 keys, 25 of them distinct), so this
// replaces the string scan, the key cache lookup and the rrweb key switch
// for nearly every key. Entries are keyed by the key's first three input
// bytes (for keys shorter than three, the bytes after them: `"` and `:`,
// the same every time in compact JSON; other spacing only misses).
type keyMemo struct {
	sets [1 << memoBits][2]memoEntry
	// hashMask selects the input bytes that pick the set: the first three
	// for keys (a value follows within the word); the whole first word for
	// values, which often share a prefix ("tile-1", "tile-2") and are
	// followed by the same bytes where they repeat.
	hashMask uint64
}

const memoBits = 9

type memoEntry struct {
	w     [4]uint64 // the key's bytes, masked to n
	m     [2]uint64 // masks of w[0] and w[1] (zero beyond n)
	n     uint8     // key length (1-32), 0 for an empty way
	flags uint8     // keyCache flags (class known and scanned)
	id    rrKey     // what the key means to the rrweb walk
}

// maxMemoKey is the longest key memoised: four words. The scanner keeps a
// second memo of short string values known to be clean.
const maxMemoKey = 32

// lowMask keeps the low n bytes of a word (1 ≤ n ≤ 8).
func lowMask(n int) uint64 { return ^uint64(0) >> (64 - 8*uint(n)) }

func (m *keyMemo) set(x0 uint64) *[2]memoEntry {
	return &m.sets[(x0&m.hashMask)*0x9E3779B97F4A7C15>>(64-memoBits)]
}

// get returns the entry for the unescaped key starting at in[ks] (after
// its opening quote), or nil.
func (m *keyMemo) get(in []byte, ks int) *memoEntry {
	if ks+maxMemoKey+1 > len(in) {
		return nil
	}
	x0 := load64(in, ks)
	set := m.set(x0)
	// The common case inline: a short key in the first way.
	if e := &set[0]; e.n != 0 && e.n <= 8 {
		if n := int(e.n); x0&lowMask(n) == e.w[0] && in[ks+n] == '"' {
			return e
		}
	} else if e.matches(in, ks, x0) {
		return e
	}
	if e := &set[1]; e.matches(in, ks, x0) {
		return e
	}
	return nil
}

// matches reports whether e holds the key at in[ks:] whose first word is
// x0 (the caller checked that 33 bytes are there).
func (e *memoEntry) matches(in []byte, ks int, x0 uint64) bool {
	n := int(e.n)
	switch {
	case n == 0:
		return false
	case n <= 8:
		if x0&lowMask(n) != e.w[0] {
			return false
		}
	case x0 != e.w[0]:
		return false
	case n <= 16:
		if load64(in, ks+8)&lowMask(n-8) != e.w[1] {
			return false
		}
	case load64(in, ks+8) != e.w[1]:
		return false
	case n <= 24:
		if load64(in, ks+16)&lowMask(n-16) != e.w[2] {
			return false
		}
	case load64(in, ks+16) != e.w[2] || load64(in, ks+24)&lowMask(n-24) != e.w[3]:
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
	e := memoEntry{n: uint8(n), flags: flags, id: rrKeyOf(in[ks:ke])}
	for k := 0; k*8 < n; k++ {
		m := ^uint64(0)
		if r := n - 8*k; r < 8 {
			m = lowMask(r)
		}
		e.w[k] = load64(in, ks+8*k) & m
		if k < 2 {
			e.m[k] = m
		}
	}
	set := m.set(load64(in, ks))
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
