package scrub

// Numeric detectors: payment cards, SSNs, IPv4 addresses and phone
// numbers. The scanner reads a "run" once: digit groups joined by short
// separators (" ", "-", ".", parentheses). Each detector then looks at
// windows of consecutive groups and validates them (Luhn and issuer ranges,
// SSA rules, octet ranges, numbering plans). Runs with fewer than 7 digits
// cost a few comparisons.

// Separator kinds between digit groups.
const (
	sepNone uint8 = iota
	sepSpace
	sepDash
	sepDot
	sepOther // parentheses or mixed, e.g. ") " in "(415) 555-2671"
)

// group is one run of digits and the separator before it.
type group struct {
	s, e int
	sep  uint8
}

func (g group) len() int { return g.e - g.s }

// numeric handles the run starting at i (a digit, or '+'/'(' before one)
// and returns where scanning continues.
func (sc *scanner) numeric(i int) int {
	b := sc.b
	n := len(b)
	if i > 0 && isWordByte(b[i-1]) { // "abc123": part of a word
		return skipWord(b, i)
	}
	start := i
	plus, paren := b[i] == '+', b[i] == '('
	if plus || paren {
		i++
	}
	// Fast path: a lone short number ("12", "2024", "v5") with no
	// separator after it is one group of under 7 digits, which no
	// detector below reports.
	if k := skipDigits(b, i); k-i < 7 && (k == n || !numSep[b[k]]) {
		if k < n && isWordByte(b[k]) {
			return skipWord(b, k)
		}
		return k
	}
	gs := sc.groups[:0]
	sep := sepNone
	digits := 0
	for {
		k := i
		for k < n && isDigit(b[k]) {
			k++
		}
		gs = append(gs, group{i, k, sep})
		digits += k - i
		// Separator: up to 3 bytes of " -.()" followed by a digit.
		m := k
		for m < n && m-k < 3 && (b[m] == ' ' || b[m] == '-' || b[m] == '.' || b[m] == '(' || b[m] == ')') {
			m++
		}
		if m == k || m >= n || !isDigit(b[m]) {
			break
		}
		switch string(b[k:m]) {
		case " ":
			sep = sepSpace
		case "-":
			sep = sepDash
		case ".":
			sep = sepDot
		default:
			sep = sepOther
		}
		i = m
	}
	sc.groups = gs
	end := gs[len(gs)-1].e
	glued := end < n && isWordByte(b[end])
	if digits >= 7 || len(gs) >= 4 {
		r := run{gs: gs, start: start, plus: plus, paren: paren, glued: glued}
		if sc.on(dCard) && digits >= 13 {
			sc.cards(&r)
		}
		if sc.on(dSSN) && digits >= 9 && !plus && !paren {
			sc.ssn(&r)
		}
		if sc.on(dIPv4) && len(gs) >= 4 && !plus && !paren {
			sc.ipv4(&r)
		}
		if sc.on(dPhone) && digits >= 8 {
			sc.phone(&r)
		}
	}
	if glued {
		return skipWord(b, end)
	}
	return end
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// numSep are the bytes that may join digit groups.
var numSep = [256]bool{' ': true, '-': true, '.': true, '(': true, ')': true}

// run is one numeric run under inspection.
type run struct {
	gs                 []group
	start              int
	plus, paren, glued bool
}

// uniform reports whether the separators inside groups g..e are all k.
func (r *run) uniform(g, e int, k uint8) bool {
	for x := g + 1; x <= e; x++ {
		if r.gs[x].sep != k {
			return false
		}
	}
	return true
}

// isolated reports whether window g..e with inner separator k is not part
// of a longer sequence joined by the same separator.
func (r *run) isolated(g, e int, k uint8) bool {
	if g > 0 && r.gs[g].sep == k {
		return false
	}
	if e < len(r.gs)-1 && r.gs[e+1].sep == k {
		return false
	}
	return !(e == len(r.gs)-1 && r.glued)
}

// digitAt returns the idx-th digit (0-based) of groups g..e.
func (sc *scanner) digitsOf(r *run, g, e int, dst []byte) []byte {
	for x := g; x <= e; x++ {
		dst = append(dst, sc.b[r.gs[x].s:r.gs[x].e]...)
	}
	return dst
}

// cards finds payment card numbers: 13-19 digits in one group or in groups
// of 3-6 after a first group of 4, with one separator kind, a known issuer
// prefix with a valid length for that issuer, and a valid Luhn checksum.
func (sc *scanner) cards(r *run) {
	gs := r.gs
	var buf [24]byte
	for g := 0; g < len(gs); g++ {
		for e := min(len(gs)-1, g+5); e >= g; e-- {
			nd := 0
			for x := g; x <= e; x++ {
				nd += gs[x].len()
			}
			if nd < 13 || nd > 19 {
				continue
			}
			if e == len(gs)-1 && r.glued {
				continue
			}
			if e > g {
				k := gs[g+1].sep
				if k != sepSpace && k != sepDash || !r.uniform(g, e, k) || gs[g].len() != 4 {
					continue
				}
				ok := true
				for x := g + 1; x <= e; x++ {
					if l := gs[x].len(); l < 3 || l > 6 {
						ok = false
					}
				}
				// A neighbour joined by the same separator with 4 digits
				// means a longer grouped number (tracking numbers).
				if !ok || g > 0 && gs[g].sep == k && gs[g-1].len() == 4 ||
					e < len(gs)-1 && gs[e+1].sep == k && gs[e+1].len() == 4 {
					continue
				}
			}
			d := sc.digitsOf(r, g, e, buf[:0])
			if !issuerOK(d) || !luhn(d) {
				continue
			}
			sc.add(gs[g].s, gs[e].e, dCard)
			g = e
			break
		}
	}
}

// luhn reports whether the digits pass the Luhn (mod 10) check.
func luhn(d []byte) bool {
	sum := 0
	dbl := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if dbl {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		dbl = !dbl
	}
	return sum%10 == 0
}

func prefixInt(d []byte, k int) int {
	v := 0
	for i := 0; i < k && i < len(d); i++ {
		v = v*10 + int(d[i]-'0')
	}
	return v
}

// issuerOK reports whether d starts with a known card issuer prefix (IIN)
// and has a length that issuer uses.
func issuerOK(d []byte) bool {
	n := len(d)
	p2, p3, p4, p6 := prefixInt(d, 2), prefixInt(d, 3), prefixInt(d, 4), prefixInt(d, 6)
	in := func(lo, hi int) bool { return n >= lo && n <= hi }
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // American Express
		return n == 15
	case p4 >= 2200 && p4 <= 2204: // Mir
		return in(16, 19)
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65, p6 >= 622126 && p6 <= 622925: // Discover
		return in(16, 19)
	case p2 == 62: // UnionPay
		return in(16, 19)
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39: // Diners Club
		return in(14, 19)
	case p4 >= 3528 && p4 <= 3589: // JCB
		return in(16, 19)
	case p4 == 5018, p4 == 5020, p4 == 5038, p4 == 5893, p4 == 6304, p4 == 6759, p4 >= 6761 && p4 <= 6763, p2 == 50, p2 >= 56 && p2 <= 58: // Maestro
		return in(13, 19)
	}
	return false
}

// ssn finds US social security numbers written AAA-GG-SSSS (or with
// spaces): area not 000, 666 or 900-999, group not 00, serial not 0000,
// and not the numbers the SSA voided or reserved for advertising.
func (sc *scanner) ssn(r *run) {
	gs := r.gs
	for g := 0; g+2 < len(gs); g++ {
		if gs[g].len() != 3 || gs[g+1].len() != 2 || gs[g+2].len() != 4 {
			continue
		}
		k := gs[g+1].sep
		if k != sepDash && k != sepSpace || gs[g+2].sep != k || !r.isolated(g, g+2, k) {
			continue
		}
		var buf [9]byte
		d := sc.digitsOf(r, g, g+2, buf[:0])
		area, grp, serial := prefixInt(d, 3), prefixInt(d[3:], 2), prefixInt(d[5:], 4)
		if area == 0 || area == 666 || area >= 900 || grp == 0 || serial == 0 {
			continue
		}
		if string(d) == "078051120" || string(d) == "219099999" || area == 987 && grp == 65 && serial >= 4320 && serial <= 4329 {
			continue
		}
		sc.add(gs[g].s, gs[g+2].e, dSSN)
		g += 2
	}
}

// ipv4 finds dotted-quad IPv4 addresses. Octets have no leading zeros;
// addresses ending in .0 (networks, masks) and starting with 0 are skipped,
// as are version numbers after a product token ("Chrome/124.0.0.1").
func (sc *scanner) ipv4(r *run) {
	gs := r.gs
	b := sc.b
	for g := 0; g+3 < len(gs); g++ {
		if !r.uniform(g, g+3, sepDot) || !r.isolated(g, g+3, sepDot) {
			continue
		}
		ok := true
		for x := g; x <= g+3; x++ {
			l := gs[x].len()
			if l > 3 || l > 1 && b[gs[x].s] == '0' || prefixInt(b[gs[x].s:gs[x].e], 3) > 255 {
				ok = false
			}
		}
		if !ok {
			continue
		}
		first := prefixInt(b[gs[g].s:gs[g].e], 3)
		last := prefixInt(b[gs[g+3].s:gs[g+3].e], 3)
		if first == 0 || last == 0 {
			continue
		}
		if s := gs[g].s; g == 0 && s >= 2 && b[s-1] == '/' && b[s-2] != '/' && isAlnum(b[s-2]) {
			continue
		}
		sc.add(gs[g].s, gs[g+3].e, dIPv4)
		g += 3
	}
}

// e164 lists the 2-digit country calling codes; codes starting with 1 or 7
// have one digit, all others three.
var e164Two = func() (t [100]bool) {
	for _, c := range []int{20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49,
		51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86,
		90, 91, 92, 93, 94, 95, 98} {
		t[c] = true
	}
	return t
}()

var e164ThreePrefix = func() (t [100]bool) {
	for _, c := range []int{21, 22, 23, 24, 25, 26, 29, 35, 37, 38, 42, 50, 59, 67, 68, 69, 80, 85, 87, 88, 96, 97, 99} {
		t[c] = true
	}
	return t
}()

// phone finds phone numbers whose shape is unambiguous: E.164 ("+" and a
// valid country code, 8-15 digits), North American (NXX) NXX-XXXX with
// consistent separators, and trunk-prefixed national numbers (0 then 9-10
// digits in 2-5 groups with one separator kind).
func (sc *scanner) phone(r *run) {
	gs := r.gs
	b := sc.b
	if r.plus {
		var buf [24]byte
		nd := 0
		e := -1
		for x := 0; x < len(gs) && nd+gs[x].len() <= 15; x++ {
			nd += gs[x].len()
			e = x
		}
		if e < 0 || nd < 8 || e == len(gs)-1 && r.glued {
			return
		}
		d := sc.digitsOf(r, 0, e, buf[:0])
		cc := 0
		switch {
		case d[0] == '1' || d[0] == '7':
			if nd != 11 {
				return
			}
			cc = 1
		case d[0] == '0':
			return
		case e164Two[prefixInt(d, 2)]:
			cc = 2
		case e164ThreePrefix[prefixInt(d, 2)]:
			cc = 3
		default:
			return
		}
		if nd-cc < 6 {
			return
		}
		sc.add(r.start, gs[e].e, dPhone)
		return
	}
	// North American numbers, optionally after "1-" / "1 ".
	for g := 0; g+2 < len(gs); g++ {
		if gs[g].len() != 3 || gs[g+1].len() != 3 || gs[g+2].len() != 4 {
			continue
		}
		if b[gs[g].s] < '2' || b[gs[g+1].s] < '2' {
			continue
		}
		s := gs[g].s
		k := gs[g+2].sep
		switch {
		case g == 0 && r.paren:
			// (415) 555-2671, (415)555-2671, (415) 555 2671
			if gs[g+1].sep != sepOther || b[gs[g].e] != ')' || k != sepDash && k != sepSpace && k != sepDot {
				continue
			}
			s = r.start
		case gs[g+1].sep == k && (k == sepDash || k == sepDot || k == sepSpace):
			if g == 1 && string(b[gs[0].s:gs[0].e]) == "1" && gs[1].sep == k {
				s = r.start // 1-800-555-0199
			} else if g != 0 {
				continue
			}
		default:
			continue
		}
		if g+2 != len(gs)-1 || r.glued {
			continue
		}
		sc.add(s, gs[g+2].e, dPhone)
		return
	}
	// Trunk-prefixed national numbers: 020 7946 0958, 01 23 45 67 89.
	if r.paren || len(gs) < 2 || len(gs) > 5 || r.glued || b[gs[0].s] != '0' || gs[0].len() < 2 || b[gs[0].s+1] == '0' {
		return
	}
	k := gs[1].sep
	if k != sepSpace && k != sepDash || !r.uniform(0, len(gs)-1, k) {
		return
	}
	// With dashes only the common 4-digit ending (03-1234-5678): part
	// numbers use dashes too.
	if k == sepDash && gs[len(gs)-1].len() != 4 {
		return
	}
	nd := 0
	for _, g := range gs {
		if g.len() < 2 || g.len() > 8 {
			return
		}
		nd += g.len()
	}
	if nd == 10 || nd == 11 {
		sc.add(r.start, gs[len(gs)-1].e, dPhone)
	}
}
