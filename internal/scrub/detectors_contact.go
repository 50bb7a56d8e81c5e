package scrub

// Detectors triggered by punctuation: e-mail and URL credentials on '@',
// IPv6 and "name: value" on ':', "name=value" on '='. IBANs start at a
// word ("DE89…") and live here with the other identifiers.

// at handles '@' at i.
func (sc *scanner) at(i int) int {
	if sc.on(dURLCred) && sc.urlCred(i) {
		return i + 1
	}
	if sc.on(dEmail) {
		return sc.email(i)
	}
	return i + 1
}

func emailLocalChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '+' || c == '-' || c >= 0x80
}

// fileExts are not top-level domains for our purpose: "logo@2x.png".
var fileExts = map[string]bool{
	"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true, "ico": true,
	"bmp": true, "avif": true, "css": true, "js": true, "mjs": true, "map": true, "json": true,
	"html": true, "htm": true, "xml": true, "txt": true, "woff": true, "woff2": true, "ttf": true,
	"otf": true, "eot": true, "mp4": true, "webm": true, "mp3": true, "wav": true, "pdf": true,
	"ts": true, "tsx": true, "jsx": true, "vue": true, "scss": true,
}

// email matches local@domain.tld around the '@' at i. The TLD is 2-24
// letters (or punycode/non-ASCII) and not a file extension.
func (sc *scanner) email(i int) int {
	b := sc.b
	j := i
	for j > 0 && i-j < 64 && emailLocalChar(b[j-1]) {
		j--
	}
	for j < i && b[j] == '.' {
		j++
	}
	if j == i || b[i-1] == '.' {
		return i + 1
	}
	k := i + 1
	labelStart, lastDot := k, -1
	for k < len(b) && k-i <= 254 {
		c := b[k]
		if isAlnum(c) || c == '-' || c >= 0x80 {
			k++
			continue
		}
		if c == '.' && k > labelStart && k+1 < len(b) && (isAlnum(b[k+1]) || b[k+1] >= 0x80) {
			lastDot = k
			k++
			labelStart = k
			continue
		}
		break
	}
	if lastDot < 0 {
		return i + 1
	}
	tld := b[lastDot+1 : k]
	if len(tld) < 2 || len(tld) > 24 || fileExts[string(tld)] {
		return i + 1
	}
	if !hasPrefix(tld, "xn--") {
		for _, c := range tld {
			if !(isUpper(c) || isLower(c) || c >= 0x80) {
				return i + 1
			}
		}
	}
	sc.add(j, k, dEmail)
	return k
}

// ibanLen holds the IBAN length of each country (SWIFT IBAN registry).
var ibanLen = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
	"BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
	"EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
	"GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
	"LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
	"NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
	"SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// iban matches an IBAN at i, compact or in groups separated by single
// spaces, with the country's length and a valid mod-97 check.
func (sc *scanner) iban(i int) int {
	b := sc.b
	want := ibanLen[string(b[i:i+2])]
	if want == 0 {
		return -1
	}
	var buf [34]byte
	n, k := 0, i
	for k < len(b) && n < want {
		c := b[k]
		switch {
		case isDigit(c) || isUpper(c):
			buf[n] = c
			n++
			k++
		case c == ' ' && k+1 < len(b) && isAlnum(b[k+1]) && n%4 == 0:
			k++
		default:
			return -1
		}
	}
	if n != want || k < len(b) && isWordByte(b[k]) {
		return -1
	}
	// Move the first four characters to the end; letters count as 10..35.
	rem := 0
	for x := 0; x < n; x++ {
		c := buf[(x+4)%n]
		if isDigit(c) {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			rem = (rem*100 + int(c-'A'+10)) % 97
		}
	}
	if rem != 1 {
		return -1
	}
	sc.add(i, k, dIBAN)
	return k
}

// colon handles ':' at i: IPv6 first, then "name: value".
func (sc *scanner) colon(i int) int {
	b := sc.b
	if sc.on(dIPv6) && i+1 < len(b) && (isHex(b[i+1]) || b[i+1] == ':') &&
		(i > 0 && (isHex(b[i-1]) || b[i-1] == ':') || b[i+1] == ':') {
		if e := sc.ipv6(i); e > 0 {
			return e
		}
	}
	return sc.keyValue(i)
}

func isV6Byte(c byte) bool { return isHex(c) || c == ':' || c == '.' }

// ipv6 matches an IPv6 address around the ':' at i.
func (sc *scanner) ipv6(i int) int {
	b := sc.b
	s := i
	for s > 0 && i-s < 40 && (isHex(b[s-1]) || b[s-1] == ':') {
		s--
	}
	if s > 0 && (isWordByte(b[s-1]) || b[s-1] == ':' || b[s-1] == '.') {
		return -1
	}
	e := i
	for e < len(b) && e-s < 46 && isV6Byte(b[e]) {
		e++
	}
	for e > i && b[e-1] == '.' {
		e--
	}
	if e < len(b) && (isWordByte(b[e]) || b[e] == ':') {
		return -1
	}
	if !validIPv6(b[s:e]) {
		return -1
	}
	sc.add(s, e, dIPv6)
	return e
}

// validIPv6 reports whether a is a full or "::"-compressed IPv6 address
// (with an optional dotted IPv4 tail) with at least one digit, other than
// "::" and "::1".
func validIPv6(a []byte) bool {
	if len(a) < 3 || string(a) == "::1" {
		return false
	}
	digit := false
	for _, c := range a {
		digit = digit || isDigit(c)
	}
	if !digit {
		return false
	}
	groups, double := 0, false
	for k := 0; k < len(a); {
		if a[k] == ':' {
			if k+1 < len(a) && a[k+1] == ':' {
				if double {
					return false
				}
				double = true
				k += 2
				continue
			}
			if k == 0 || k == len(a)-1 {
				return false
			}
			k++
			continue
		}
		j := k
		for j < len(a) && isHex(a[j]) {
			j++
		}
		if j < len(a) && a[j] == '.' { // IPv4 tail
			if !validDotted(a[k:]) {
				return false
			}
			groups += 2
			break
		}
		if j-k == 0 || j-k > 4 {
			return false
		}
		groups++
		k = j
	}
	if double {
		return groups < 8 && groups >= 1
	}
	return groups == 8
}

func validDotted(a []byte) bool {
	parts, v, nd := 0, 0, 0
	for k := 0; k <= len(a); k++ {
		if k == len(a) || a[k] == '.' {
			if nd == 0 || v > 255 {
				return false
			}
			parts++
			v, nd = 0, 0
			continue
		}
		if !isDigit(a[k]) || nd == 3 {
			return false
		}
		v = v*10 + int(a[k]-'0')
		nd++
	}
	return parts == 4
}

func keyChar(c byte) bool {
	return isWordByte(c) || c == '-' || c == '.' || c == '[' || c == ']'
}

func valueDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '&', ';', ',', '"', '\'', '<', '>', '#', ')', '}', ']', '|':
		return true
	}
	return false
}

// keyValue handles "name=value", "name: value" and `"name": "value"` at
// the separator i: when name is a sensitive field (and not a safe one), the
// value is removed. Values of header-like names (authorization, cookie)
// after ':' run to the end of the line.
func (sc *scanner) keyValue(i int) int {
	b := sc.b
	if !sc.on(dField) || i+1 >= len(b) {
		return i + 1
	}
	sep := b[i]
	if sep == '=' && (b[i+1] == '=' || i > 0 && bytesIn(b[i-1], "=!<>")) || sep == ':' && (b[i+1] == ':' || b[i+1] == '/') {
		return i + 1
	}
	ke := i
	for ke > 0 && i-ke < 2 && b[ke-1] == ' ' {
		ke--
	}
	var quote byte
	if ke > 0 && (b[ke-1] == '"' || b[ke-1] == '\'') {
		quote = b[ke-1]
		ke--
		if ke > 0 && b[ke-1] == '\\' { // {\"key\": …} inside a string
			ke--
		}
	}
	ks := ke
	for ks > 0 && ke-ks < 64 && keyChar(b[ks-1]) {
		ks--
	}
	if ks == ke || quote != 0 && (ks == 0 || b[ks-1] != quote) {
		return i + 1
	}
	key := b[ks:ke]
	if sc.classify(key) != keySensitive {
		return i + 1
	}
	v := i + 1
	for v < len(b) && (b[v] == ' ' || b[v] == '\t') {
		v++
	}
	if v >= len(b) {
		return i + 1
	}
	vs, ve := v, v
	escQuote := b[v] == '\\' && v+1 < len(b) && (b[v+1] == '"' || b[v+1] == '\'')
	if escQuote { // {\"key\":\"value\"} inside a string
		q := b[v+1]
		vs = v + 2
		ve = vs
		for ve < len(b) && !(b[ve] == '\\' && ve+1 < len(b) && b[ve+1] == q) {
			ve++
		}
	} else if q := b[v]; q == '"' || q == '\'' {
		vs++
		ve = vs
		for ve < len(b) && b[ve] != q {
			if b[ve] == '\\' {
				ve++
			}
			ve++
		}
		ve = min(ve, len(b))
	} else {
		header := sep == ':' && headerLike(key)
		for ve < len(b) && b[ve] != '\n' && b[ve] != '\r' && (header || !valueDelim(b[ve])) {
			ve++
		}
	}
	if ve <= vs {
		return i + 1
	}
	if !sc.protected(b, vs, ve) {
		sc.add(vs, ve, dField)
	}
	return ve
}

func bytesIn(c byte, set string) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}
