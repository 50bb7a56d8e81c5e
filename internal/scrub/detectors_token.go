package scrub

import (
	"bytes"
	"encoding/base64"
)

// Secret detectors keyed by how a word starts: cloud and SaaS tokens with
// fixed prefixes, JWTs, Bearer/Basic credentials, AWS secret keys near the
// words "aws" or "secret", PEM private keys. Each check first compares a
// few bytes, so ordinary words cost one switch.

func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := b[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		if c != p[i] {
			return false
		}
	}
	return true
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

// tokenClass selects the characters a token body may contain.
type tokenClass uint8

const (
	tcAlnum     tokenClass = iota // [A-Za-z0-9]
	tcWord                        // [A-Za-z0-9_]
	tcWordDash                    // [A-Za-z0-9_-]
	tcUpperDig                    // [A-Z0-9]
	tcBase64URL                   // [A-Za-z0-9_-]
)

func inClass(c byte, tc tokenClass) bool {
	switch tc {
	case tcAlnum:
		return isAlnum(c)
	case tcWord:
		return isWordByte(c)
	case tcUpperDig:
		return isUpper(c) || isDigit(c)
	default:
		return isWordByte(c) || c == '-'
	}
}

// token matches prefix p at i followed by a body of tc bytes whose length
// is within [lo, hi] and which ends at a word boundary. It returns the end
// of the token, or -1.
func (sc *scanner) token(i int, p string, tc tokenClass, lo, hi int, d detID) int {
	b := sc.b
	if !sc.on(d) || !hasPrefix(b[i:], p) {
		return -1
	}
	s := i + len(p)
	e := s
	for e < len(b) && e-s <= hi && inClass(b[e], tc) {
		e++
	}
	if e-s < lo || e-s > hi || e < len(b) && (isWordByte(b[e]) || tc >= tcWordDash && b[e] == '-') {
		return -1
	}
	if !mixed(b[s:e]) {
		return -1
	}
	sc.add(i, e, d)
	return e
}

// mixed reports whether a token body has both letters and digits, which
// real tokens of 20+ random characters always do and words never do.
func mixed(t []byte) bool {
	var l, d bool
	for _, c := range t {
		if isDigit(c) {
			d = true
		} else if isAlnum(c) {
			l = true
		}
		if l && d {
			return true
		}
	}
	return len(t) < 10 && l
}

// wordStart runs the prefix checks at the start of a word and returns the
// end of a match, or -1.
//
// The caller only calls it for letters in wordStarts that pass startOK.
func (sc *scanner) wordStart(i int) int {
	b := sc.b
	if !startOK(b, i) {
		return -1
	}
	if i+3 < len(b) && isDigit(b[i+2]) && isDigit(b[i+3]) && (isUpper(b[i]) && isUpper(b[i+1])) && sc.on(dIBAN) {
		if e := sc.iban(i); e > 0 {
			return e
		}
	}
	var e = -1
	switch b[i] {
	case 'A':
		if e = sc.awsKeyID(i); e > 0 {
			return e
		}
		if e = sc.token(i, "AIza", tcBase64URL, 35, 35, dGoogle); e > 0 {
			return e
		}
	case 'e':
		if sc.on(dJWT) && hasPrefix(b[i:], "eyJ") {
			return sc.jwt(i)
		}
	case 'g':
		for _, p := range [...]string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"} {
			if e = sc.token(i, p, tcAlnum, 30, 251, dGitHub); e > 0 {
				return e
			}
		}
		if e = sc.token(i, "github_pat_", tcWord, 40, 251, dGitHub); e > 0 {
			return e
		}
		for _, p := range [...]string{"glpat-", "gldt-", "glptt-", "glrt-", "gloas-"} {
			if e = sc.token(i, p, tcWordDash, 20, 128, dGitLab); e > 0 {
				return e
			}
		}
	case 'x':
		for _, p := range [...]string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xapp-"} {
			if e = sc.token(i, p, tcWordDash, 10, 255, dSlack); e > 0 {
				return e
			}
		}
	case 's':
		for _, p := range [...]string{"sk_live_", "sk_test_"} {
			if e = sc.token(i, p, tcAlnum, 10, 247, dStripe); e > 0 {
				return e
			}
		}
		for _, p := range [...]string{"sk-proj-", "sk-svcacct-", "sk-admin-", "sk-ant-", "sk-"} {
			if e = sc.token(i, p, tcWordDash, 20, 255, dOpenAI); e > 0 {
				return e
			}
		}
	case 'r':
		for _, p := range [...]string{"rk_live_", "rk_test_"} {
			if e = sc.token(i, p, tcAlnum, 10, 247, dStripe); e > 0 {
				return e
			}
		}
	case 'w':
		if e = sc.token(i, "whsec_", tcAlnum, 20, 128, dStripe); e > 0 {
			return e
		}
	case 'h':
		if sc.on(dSlack) {
			if e = sc.slackWebhook(i); e > 0 {
				return e
			}
		}
	}
	switch b[i] {
	case 'B', 'b':
		if sc.on(dAuth) {
			return sc.authScheme(i)
		}
	case 'a', 'A', 's', 'S':
		if sc.on(dAWSSecret) && (hasPrefixFold(b[i:], "aws") || hasPrefixFold(b[i:], "secret")) {
			sc.awsSecret(i)
		}
	}
	return -1
}

// wordStarts are the letters some check starts with: every upper-case
// letter (IBANs) and the first letters of the lower-case prefixes below.
var wordStarts = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for _, c := range "aegxsrwhb" {
		t[c] = true
	}
	return t
}()

// startOK is a cheap prefilter on a word's first three bytes (b[i] is a
// letter in wordStarts): every check in wordStart needs one of these
// beginnings, so ordinary words such as "shop", "search" or "Updated"
// cost no call. Upper-case pairs pass (IBAN country codes, AKIA…,
// BEARER, SECRET).
func startOK(b []byte, i int) bool {
	var c1, c2 byte
	if i+2 < len(b) {
		c1, c2 = b[i+1], b[i+2]
	} else if i+1 < len(b) {
		c1 = b[i+1]
	}
	l1, l2 := c1|0x20, c2|0x20 // lower case (for letters)
	switch b[i] {
	case 'a': // aws
		return l1 == 'w' && l2 == 's'
	case 'A': // AKIA…, A3T…, AIza, AWS
		return isUpper(c1) || c1 == '3' || c1 == 'w'
	case 'e': // eyJ
		return c1 == 'y' && c2 == 'J'
	case 'g': // ghp_ gho_ ghu_ ghs_ ghr_, github_pat_, glpat- gldt- glptt- glrt- gloas-
		switch c1 {
		case 'h':
			return c2 == 'p' || c2 == 'o' || c2 == 'u' || c2 == 's' || c2 == 'r'
		case 'i':
			return c2 == 't'
		case 'l':
			return c2 == 'p' || c2 == 'd' || c2 == 'r' || c2 == 'o'
		}
		return false
	case 'x': // xoxb-…, xapp-
		return c1 == 'o' && c2 == 'x' || c1 == 'a' && c2 == 'p'
	case 's': // sk_live_, sk-…, secret
		return c1 == 'k' && (c2 == '_' || c2 == '-') || l1 == 'e' && l2 == 'c'
	case 'S': // Secret, SECRET
		return c1 == 'e' || isUpper(c1)
	case 'r': // rk_live_
		return c1 == 'k' && c2 == '_'
	case 'w': // whsec_
		return c1 == 'h' && c2 == 's'
	case 'h': // hooks.slack.com
		return c1 == 'o' && c2 == 'o'
	case 'b', 'B': // bearer, basic
		return l1 == 'e' && l2 == 'a' || l1 == 'a' && l2 == 's' || b[i] == 'B' && isUpper(c1)
	}
	return isUpper(b[i]) && isUpper(c1) // IBAN
}

// startPairs has bit c0<<8|c1 set when a word starting with the bytes c0
// c1 passes startOK for some third byte (or none): the scan tests it
// inline, so most words cost no call. startOK compares the third byte only
// with the constants below, so every other byte behaves like 0x01.
var startPairs = func() (t [1 << 16 / 64]uint64) {
	third := []byte("\x00\x01JpoustrdxcaSCA_-")
	var b [3]byte
	for c0 := 0; c0 < 256; c0++ {
		if !wordStarts[c0] {
			continue
		}
		for c1 := 0; c1 < 256; c1++ {
			for _, c2 := range third {
				b = [3]byte{byte(c0), byte(c1), c2}
				if startOK(b[:], 0) {
					k := c0<<8 | c1
					t[k>>6] |= 1 << (k & 63)
					break
				}
			}
		}
	}
	return t
}()

// startPair reports whether the word at b[i] may pass startOK.
func startPair(b []byte, i int) bool {
	var c1 byte
	if i+1 < len(b) {
		c1 = b[i+1]
	}
	k := int(b[i])<<8 | int(c1)
	return startPairs[k>>6]>>(k&63)&1 != 0
}

// awsKeyID matches AWS access key ids: AKIA/ASIA/ABIA/ACCA/A3T? and 16
// more upper-case letters or digits.
func (sc *scanner) awsKeyID(i int) int {
	b := sc.b
	if !sc.on(dAWSKey) || i+20 > len(b) {
		return -1
	}
	p := b[i : i+4]
	if !(hasPrefix(p, "AKIA") || hasPrefix(p, "ASIA") || hasPrefix(p, "ABIA") || hasPrefix(p, "ACCA") || hasPrefix(p, "A3T") && inClass(p[3], tcUpperDig)) {
		return -1
	}
	for _, c := range b[i+4 : i+20] {
		if !inClass(c, tcUpperDig) {
			return -1
		}
	}
	if i+20 < len(b) && isWordByte(b[i+20]) {
		return -1
	}
	sc.add(i, i+20, dAWSKey)
	return i + 20
}

func isB64(c byte) bool { return isAlnum(c) || c == '/' || c == '+' }

// awsSecret looks, after the word "aws" or "secret" at i, for a 40-byte
// base64 token with upper- and lower-case letters and a digit, '/' or '+'.
// Without such a word nearby, 40 random base64 bytes are not reported:
// they are too common (hashes, ids).
func (sc *scanner) awsSecret(i int) {
	b := sc.b
	end := min(len(b), i+160)
	for j := i; j < end; {
		if !isB64(b[j]) {
			j++
			continue
		}
		k := j
		for k < len(b) && isB64(b[k]) {
			k++
		}
		if k-j == 40 && (j == 0 || !isB64(b[j-1])) && (k == len(b) || b[k] != '=') {
			var up, lo, other bool
			for _, c := range b[j:k] {
				switch {
				case isUpper(c):
					up = true
				case isLower(c):
					lo = true
				default:
					other = true
				}
			}
			if up && lo && other {
				sc.add(j, k, dAWSSecret)
				return
			}
		}
		j = k
	}
}

func isB64URL(c byte) bool { return isWordByte(c) || c == '-' }

// jwt matches header.payload.signature (and 5-part JWE) where the header
// is base64url of a JSON object ("eyJ" is base64 of `{"`).
func (sc *scanner) jwt(i int) int {
	b := sc.b
	if i < sc.jwtFail || i > 0 && (isB64URL(b[i-1]) || b[i-1] == '.') {
		return -1
	}
	h := i
	for h < len(b) && h-i <= 4096 && isB64URL(b[h]) {
		h++
	}
	if h >= len(b) || b[h] != '.' || h-i < 10 || h-i > 4096 {
		sc.jwtFail = h
		return -1
	}
	// The decoded header must look like a JSON object with a JOSE key.
	var hdr [24]byte
	nb := min(32, (h-i)/4*4)
	n, _ := base64.RawURLEncoding.Decode(hdr[:], b[i:i+nb])
	if n < 6 || !joseHeader(hdr[:n]) && !hasPrefix(b[h+1:], "eyJ") {
		return -1
	}
	e := h
	parts := 1
	for parts < 5 && e < len(b) && b[e] == '.' {
		k := e + 1
		for k < len(b) && isB64URL(b[k]) {
			k++
		}
		if parts == 1 && k-e-1 < 3 {
			return -1
		}
		e = k
		parts++
	}
	if parts < 3 {
		return -1
	}
	sc.add(i, e, dJWT)
	return e
}

// joseHeader reports whether a decoded JWT header prefix starts with a
// registered JOSE header name.
func joseHeader(h []byte) bool {
	if !hasPrefix(h, `{"`) {
		return false
	}
	h = h[2:]
	for _, k := range [...]string{`alg"`, `typ"`, `kid"`, `enc"`, `cty"`, `jku"`, `jwk"`, `x5u"`, `x5c"`, `x5t`, `zip"`, `crit"`} {
		if hasPrefix(h, k) {
			return true
		}
	}
	return false
}

// authScheme matches "Bearer <token>" and "Basic <base64 user:pass>".
func (sc *scanner) authScheme(i int) int {
	b := sc.b
	var s int
	basic := false
	switch {
	case hasPrefixFold(b[i:], "bearer "):
		s = i + 7
	case hasPrefixFold(b[i:], "basic "):
		s, basic = i+6, true
	default:
		return -1
	}
	for s < len(b) && b[s] == ' ' {
		s++
	}
	e := s
	symbols, digits := false, false
	for e < len(b) && (isAlnum(b[e]) || isTokenSym(b[e])) {
		if isDigit(b[e]) {
			digits = true
		} else if !isAlnum(b[e]) {
			symbols = true
		}
		e++
	}
	t := b[s:e]
	if basic {
		if len(t) < 4 || !basicCred(t) {
			return -1
		}
	} else if len(t) < 8 || !(digits || symbols || len(t) >= 20) {
		return -1
	}
	sc.add(s, e, dAuth)
	return e
}

// isTokenSym reports whether c is a non-alphanumeric byte of an RFC 6750
// b64token.
func isTokenSym(c byte) bool {
	switch c {
	case '-', '.', '_', '~', '+', '/', '=':
		return true
	}
	return false
}

// basicCred reports whether t is base64 of printable "user:password".
func basicCred(t []byte) bool {
	var buf [96]byte
	t = bytes.TrimRight(t, "=")
	if len(t) > 128 {
		t = t[:128]
	}
	n, err := base64.RawStdEncoding.Decode(buf[:], t[:len(t)/4*4])
	if err != nil || n == 0 {
		return false
	}
	colon := false
	for _, c := range buf[:n] {
		if c < 0x20 || c > 0x7e {
			return false
		}
		colon = colon || c == ':'
	}
	return colon
}

// pem matches PEM private key blocks from BEGIN to END (to the end of the
// text when END is missing: when in doubt, remove).
func (sc *scanner) pem(i int) int {
	b := sc.b
	const begin = "-----BEGIN "
	if !sc.on(dPEM) || !hasPrefix(b[i:], begin) {
		return -1
	}
	le := bytes.Index(b[i+len(begin):min(len(b), i+len(begin)+64)], []byte("-----"))
	if le < 0 {
		return -1
	}
	label := b[i+len(begin) : i+len(begin)+le]
	if !bytes.Contains(label, []byte("PRIVATE KEY")) {
		return -1
	}
	rest := b[i+len(begin)+le:]
	end := len(b)
	if k := bytes.Index(rest, []byte("-----END ")); k >= 0 {
		end = i + len(begin) + le + k + len("-----END ")
		if k2 := bytes.Index(b[end:], []byte("-----")); k2 >= 0 && k2 <= 64 {
			end += k2 + 5
		} else {
			end = len(b)
		}
	}
	sc.add(i, end, dPEM)
	return end
}
