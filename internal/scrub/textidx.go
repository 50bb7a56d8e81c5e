package scrub

import (
	"math/bits"
	"unsafe"
)

// The indexed text scan. scanBytes visits every byte of a text in table
// loops (~11 instructions per byte). Here an AVX2 classifier
// (textidx_amd64.s, simdjson-style nibble lookups, 32 bytes per step)
// first marks the bytes where scanBytes would start a check — trigger
// bytes (+ ( - @ : =) and word starts whose first byte can begin one
// (digits, A-Z, a b e g h r s w x) — and scanIdx jumps from mark to mark,
// running the same checks in the same order. Bytes inside words are never
// marked, which is what scanBytes does by skipping words, so both find the
// same spans (TestIndexedScanEqual compares them on the corpus and fuzzed
// input). The classifier also tells whether a '%' or '+' occurs, which
// decides on URL-decoded views, so hasPctOrPlus costs nothing more.

// The indexed scan is used when hasAVX2 (scanner.idx; tests can ask for
// the byte loop, see compiled.byteScan) for texts of minIdx bytes or more:
// below that the byte loop is as cheap as the call.
const minIdx = 8

// eventMasks fills sc.ev with the event masks of b (len(b) > 0) and
// reports whether b contains '%' or '+'.
func (sc *scanner) eventMasks(b []byte) bool {
	nw := (len(b) + 63) >> 6
	if cap(sc.ev) < nw {
		sc.ev = make([]uint64, nw, nw+nw/2)
	}
	sc.ev = sc.ev[:nw]
	return eventMasksAVX2(unsafe.SliceData(b), len(b), unsafe.SliceData(sc.ev))
}

// scanIdx is scanBytes driven by sc.ev, the event masks of b.
func (sc *scanner) scanIdx(b []byte) {
	sc.b = b
	sc.jwtFail = 0
	n := len(b)
	ev := sc.ev
	w, m := 0, ev[0]
	for {
		for m == 0 {
			if w++; w >= len(ev) {
				return
			}
			m = ev[w]
		}
		p := w<<6 | bits.TrailingZeros64(m)
		m &= m - 1
		var i int // where the check at p says scanning goes on
		switch byteClass[b[p]] {
		case cWord: // a word start (marks are never inside words)
			if !startPair(b, p) || !startOK(b, p) {
				continue
			}
			if i = sc.wordStart(p); i <= p {
				continue
			}
		case cDigit:
			i = sc.numeric(p)
		case cPlus, cParen:
			if p+1 >= n || !isDigit(b[p+1]) || p > 0 && isWordByte(b[p-1]) {
				continue
			}
			i = sc.numeric(p)
		case cAt:
			i = sc.at(p)
		case cColon:
			i = sc.colon(p)
		case cEq:
			i = sc.keyValue(p)
		case cDash:
			i = sc.pem(p)
		}
		if i > p+1 { // drop the marks the check consumed
			if j := i >> 6; j != w {
				if j >= len(ev) {
					return
				}
				w, m = j, ev[j]
			}
			m &= ^uint64(0) << (i & 63)
		}
	}
}
