package scrub

import (
	"encoding/binary"
	"math/bits"
)

// Field names are compared by words (plurals included), so that "api_key", "apiKey",
// "X-API-Key" and "APIKEY" are the same name and "cardinality" is not
// "card". A key is split into lowercase words at non-alphanumeric bytes and
// at camelCase boundaries; a name matches when its words, joined, equal the
// join of a contiguous run of the key's words.

// fieldSet is a set of field names in joined-words form.
type fieldSet struct {
	set    map[string]struct{}
	maxLen int
}

func newFieldSet(names []string) *fieldSet {
	fs := &fieldSet{set: make(map[string]struct{}, len(names))}
	for _, n := range names {
		k := normKey(n)
		if k == "" {
			continue
		}
		fs.set[k] = struct{}{}
		if len(k) > fs.maxLen {
			fs.maxLen = len(k)
		}
	}
	return fs
}

// normKey returns the joined lowercase words of name ("X-Api-Key" →
// "xapikey").
func normKey(name string) string {
	var kw keyWords
	kw.split([]byte(name))
	return string(kw.buf[:kw.n])
}

// keyWords is a key split into words, without allocating for keys up to
// len(buf) bytes; longer keys are truncated, which only matters for names
// longer than any set entry.
type keyWords struct {
	buf    [160]byte
	n      int
	starts [33]uint8 // word i is buf[starts[i]:starts[i+1]]
	words  int
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isUpper(c) || isLower(c) || isDigit(c) }

func (kw *keyWords) split(key []byte) {
	kw.n, kw.words = 0, 0
	inWord := false
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !isAlnum(c) {
			inWord = false
			continue
		}
		newWord := !inWord
		if inWord && isUpper(c) {
			p := key[i-1]
			// fooBar, foo2Bar, and the K in APIKey.
			if isLower(p) || isDigit(p) || isUpper(p) && i+1 < len(key) && isLower(key[i+1]) {
				newWord = true
			}
		}
		if newWord {
			if kw.words == len(kw.starts)-1 || kw.n == len(kw.buf) {
				break
			}
			kw.starts[kw.words] = uint8(kw.n)
			kw.words++
		}
		if kw.n == len(kw.buf) {
			break
		}
		if isUpper(c) {
			c += 'a' - 'A'
		}
		kw.buf[kw.n] = c
		kw.n++
		inWord = true
	}
	kw.starts[kw.words] = uint8(kw.n)
}

// joined returns the key's words joined ("apikey").
func (kw *keyWords) joined() []byte { return kw.buf[:kw.n] }

// containsName reports whether a contiguous run of the key's words joins
// to a name in fs.
func (fs *fieldSet) containsName(kw *keyWords) bool {
	if len(fs.set) == 0 {
		return false
	}
	for a := 0; a < kw.words; a++ {
		s := int(kw.starts[a])
		for b := a + 1; b <= kw.words; b++ {
			e := int(kw.starts[b])
			if e-s > fs.maxLen+1 {
				break
			}
			if _, ok := fs.set[string(kw.buf[s:e])]; ok {
				return true
			}
			// Plurals: "cookies", "passwords", "tokens".
			if kw.buf[e-1] == 's' && e-s > 3 {
				if _, ok := fs.set[string(kw.buf[s:e-1])]; ok {
					return true
				}
			}
		}
	}
	return false
}

// equalsName reports whether the whole key is a name in fs.
func (fs *fieldSet) equalsName(kw *keyWords) bool {
	if len(fs.set) == 0 || kw.n > fs.maxLen {
		return false
	}
	_, ok := fs.set[string(kw.joined())]
	return ok
}

// keyClass is what a field name means for its value.
type keyClass uint8

const (
	keyPlain     keyClass = iota
	keySensitive          // remove the value
	keySafe               // never touch the value
)

// classify returns the class of field name key.
func (c *compiled) classify(key []byte) keyClass {
	var kw keyWords
	kw.split(key)
	if c.safe.equalsName(&kw) {
		return keySafe
	}
	if c.sensitive.containsName(&kw) {
		return keySensitive
	}
	return keyPlain
}

// headerLike reports whether a "name: value" pair with this key runs to the
// end of the line (HTTP headers whose values contain spaces).
func headerLike(key []byte) bool {
	var kw keyWords
	kw.split(key)
	switch string(kw.joined()) {
	case "authorization", "proxyauthorization", "cookie", "setcookie":
		return true
	}
	return false
}

// keyCache remembers, per scanner, what classify found for field names and
// whether scanning them as text found nothing (scanner.keys), or which
// short string values were scanned without a finding (scanner.vals).
// Documents repeat a few dozen keys and values thousands of times ("type",
// "childNodes", "en-US", class names), and splitting a key into words,
// probing the name sets or scanning a string cost more than a lookup. The
// outcome depends only on the bytes and the rules (see cacheable), so
// entries stay valid across documents. A miss only costs a recomputation.
type keyCache [1 << keyCacheBits]keyEntry

const keyCacheBits = 9

type keyEntry struct {
	w0, w1 uint64 // loadKey of the key
	n      uint8  // key length, 0 for an empty slot
	flags  uint8  // kc* bits
	key    [maxCachedKey]byte
}

const (
	maxCachedKey       = 30
	kcClass      uint8 = 3 // the keyClass, valid with kcClassKnown
	kcClassKnown uint8 = 4
	kcScanned    uint8 = 8 // scanning the bytes as text found nothing
)

// loadKey loads key (1 to maxCachedKey bytes) as two words: its first and
// last eight bytes (overlapping), or four, or its bytes. With the length,
// they identify keys of up to 16 bytes, so most comparisons need no call.
func loadKey(key []byte) (uint64, uint64) {
	switch n := len(key); {
	case n >= 8:
		return binary.LittleEndian.Uint64(key), binary.LittleEndian.Uint64(key[n-8:])
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32(key)) | uint64(binary.LittleEndian.Uint32(key[n-4:]))<<32, 0
	case n > 0:
		return uint64(key[0]) | uint64(key[n/2])<<8 | uint64(key[n-1])<<16, 0
	}
	return 0, 0
}

// slot returns the entry for key and whether it holds key. Each key has
// two places, h and h^1: a miss moves the occupant of h to h^1 and returns
// h, emptied, for the caller to fill (mark), so two hot keys that share a
// place do not evict each other.
func (kc *keyCache) slot(key []byte) (*keyEntry, bool) {
	w0, w1 := loadKey(key)
	h := (w0 ^ bits.RotateLeft64(w1, 29) ^ uint64(len(key))) * 0x9E3779B97F4A7C15 >> (64 - keyCacheBits)
	e := &kc[h]
	if e.holds(key, w0, w1) {
		return e, true
	}
	alt := &kc[h^1]
	if alt.holds(key, w0, w1) {
		return alt, true
	}
	*alt = *e
	e.n, e.flags = 0, 0
	return e, false
}

func (e *keyEntry) holds(key []byte, w0, w1 uint64) bool {
	n := len(key)
	return int(e.n) == n && e.w0 == w0 && e.w1 == w1 && (n <= 16 || string(e.key[8:n-8]) == string(key[8:n-8]))
}

// cacheable reports whether key may be cached. Keys that could parse as
// JSON are not: how they are scanned depends on the nesting depth.
func cacheable(key []byte) bool {
	return len(key) > 0 && len(key) <= maxCachedKey && !jsonStart[key[0]]
}

// mark adds flags to the entry for key (e, from slot), which may have
// been taken by another key since slot returned it.
func (e *keyEntry) mark(key []byte, flags uint8) {
	w0, w1 := loadKey(key)
	if e.holds(key, w0, w1) {
		e.flags |= flags
		return
	}
	e.w0, e.w1 = w0, w1
	e.n = uint8(copy(e.key[:], key))
	e.flags = flags
}

// classify is compiled.classify through the scanner's key cache.
func (sc *scanner) classify(key []byte) keyClass {
	if !cacheable(key) {
		return sc.c.classify(key)
	}
	e, hit := sc.keys.slot(key)
	if hit && e.flags&kcClassKnown != 0 {
		return keyClass(e.flags & kcClass)
	}
	cl := sc.c.classify(key)
	e.mark(key, uint8(cl)|kcClassKnown)
	return cl
}
