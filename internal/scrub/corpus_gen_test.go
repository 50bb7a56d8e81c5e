package scrub_test

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Synthetic, seeded generators for the evaluation corpus: realistic values
// of every kind the engine detects, and hard negatives that look like them
// but must survive. Nothing here is real personal data.

type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) n(lo, hi int) int         { return lo + g.r.IntN(hi-lo+1) }

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *gen) chars(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	alnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64url    = alnum + "-_"
	upperDig  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	hexLower  = "0123456789abcdef"
	b64std    = alnum + "+/"
	lowerWord = "abcdefghijklmnopqrstuvwxyz"
)

// mixedToken returns n random alphanumerics with at least one digit and
// one letter.
func (g *gen) mixedToken(n int, alphabet string) string {
	for {
		t := g.chars(n, alphabet)
		if strings.ContainsAny(t, "0123456789") && strings.ContainsAny(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			return t
		}
	}
}

func luhnDigit(body string) byte {
	sum := 0
	dbl := true
	for i := len(body) - 1; i >= 0; i-- {
		v := int(body[i] - '0')
		if dbl {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		dbl = !dbl
	}
	return byte('0' + (10-sum%10)%10)
}

func group(s string, sizes []int, sep string) string {
	var parts []string
	for _, n := range sizes {
		parts = append(parts, s[:n])
		s = s[n:]
	}
	return strings.Join(parts, sep)
}

func (g *gen) card() string {
	type brand struct {
		prefix string
		n      int
	}
	b := []brand{{"4", 16}, {"4", 16}, {"51", 16}, {"55", 16}, {"2221", 16}, {"2720", 16}, {"34", 15}, {"37", 15},
		{"6011", 16}, {"65", 16}, {"3528", 16}, {"36", 14}, {"62", 16}, {"4", 13}, {"6759", 18}}[g.r.IntN(15)]
	body := b.prefix + g.digits(b.n-len(b.prefix)-1)
	num := body + string(luhnDigit(body))
	sep := g.pick("", "", " ", "-")
	if sep == "" {
		return num
	}
	switch b.n {
	case 15:
		return group(num, []int{4, 6, 5}, sep)
	case 14:
		return group(num, []int{4, 6, 4}, sep)
	case 13:
		return num
	case 18:
		return group(num, []int{4, 4, 4, 6}, sep)
	}
	return group(num, []int{4, 4, 4, 4}, sep)
}

func (g *gen) ssn() string {
	area := g.n(1, 899)
	if area == 666 {
		area = 667
	}
	return fmt.Sprintf("%03d%s%02d%s%04d", area, "-", g.n(1, 99), "-", g.n(1, 9999))
}

func ibanCheck(country, bban string) string {
	s := bban + country + "00"
	rem := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			rem = (rem*100 + int(c-'A'+10)) % 97
		}
	}
	return fmt.Sprintf("%02d", 98-rem)
}

func (g *gen) iban() string {
	type c struct {
		cc   string
		bban func() string
	}
	cs := []c{
		{"DE", func() string { return g.digits(18) }},
		{"FR", func() string { return g.digits(10) + g.chars(11, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") + g.digits(2) }},
		{"GB", func() string { return g.pick("WEST", "NWBK", "BARC", "LOYD") + g.digits(14) }},
		{"NL", func() string { return g.pick("ABNA", "INGB", "RABO") + g.digits(10) }},
		{"ES", func() string { return g.digits(20) }},
		{"IT", func() string { return "X" + g.digits(10) + g.chars(12, "0123456789ABCDEFGHIJ") }},
		{"BE", func() string { return g.digits(12) }},
		{"CH", func() string { return g.digits(17) }},
	}
	x := cs[g.r.IntN(len(cs))]
	bban := x.bban()
	iban := x.cc + ibanCheck(x.cc, bban) + bban
	if g.r.IntN(2) == 0 {
		var sb strings.Builder
		for i := 0; i < len(iban); i += 4 {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(iban[i:min(len(iban), i+4)])
		}
		return sb.String()
	}
	return iban
}

var firstNames = []string{"john", "maria", "li", "ahmed", "olga", "jean-luc", "sara", "kenji", "priya", "tom"}
var lastNames = []string{"doe", "garcia", "wang", "khan", "ivanova", "picard", "smith", "tanaka", "patel", "o.neil"}

func (g *gen) email() string {
	local := g.pick(firstNames...) + g.pick(".", "_", "", "+news.") + g.pick(lastNames...)
	if g.r.IntN(3) == 0 {
		local += g.digits(2)
	}
	domain := g.pick("example.com", "mail.example.org", "corp.example.co.uk", "example.de", "uni.example.edu", "example.io")
	return local + "@" + domain
}

func (g *gen) phone() string {
	nxx := func() string { return string(byte('2'+g.r.IntN(8))) + g.digits(2) }
	switch g.r.IntN(9) {
	case 0:
		return "+1" + nxx() + nxx() + g.digits(4)
	case 1:
		return "+1 " + nxx() + " " + nxx() + " " + g.digits(4)
	case 2:
		return "(" + nxx() + ") " + nxx() + "-" + g.digits(4)
	case 3:
		return nxx() + "-" + nxx() + "-" + g.digits(4)
	case 4:
		return nxx() + "." + nxx() + "." + g.digits(4)
	case 5:
		return "+44 20 " + g.digits(4) + " " + g.digits(4)
	case 6:
		return "+49 30 " + g.digits(8)
	case 7:
		return "020 " + g.digits(4) + " " + g.digits(4)
	default:
		return "0" + string(byte('1'+g.r.IntN(9))) + " " + g.digits(2) + " " + g.digits(2) + " " + g.digits(2) + " " + g.digits(2)
	}
}

func (g *gen) ipv4() string {
	return fmt.Sprintf("%d.%d.%d.%d", g.n(1, 223), g.n(0, 255), g.n(0, 255), g.n(1, 254))
}

func (g *gen) ipv6() string {
	var parts []string
	for i := 0; i < 8; i++ {
		parts = append(parts, fmt.Sprintf("%x", g.r.IntN(0x10000)))
	}
	parts[0] = g.pick("2001", "2a00", "fe80", "2600")
	if g.r.IntN(2) == 0 {
		return parts[0] + ":" + parts[1] + "::" + parts[6] + ":" + parts[7]
	}
	return strings.Join(parts, ":")
}

func (g *gen) jwt() string {
	enc := base64.RawURLEncoding.EncodeToString
	hdr := enc([]byte(g.pick(`{"alg":"HS256","typ":"JWT"}`, `{"alg":"RS256","kid":"`+g.chars(8, alnum)+`"}`, `{"typ":"JWT","alg":"ES256"}`)))
	body := enc([]byte(fmt.Sprintf(`{"sub":"%s","iat":%d,"email":"%s"}`, g.digits(8), 1700000000+g.r.IntN(1e7), g.email())))
	return hdr + "." + body + "." + g.chars(43, b64url)
}

func (g *gen) private() string {
	label := g.pick("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY")
	var lines []string
	for i := 0; i < g.n(3, 8); i++ {
		lines = append(lines, g.chars(64, b64std))
	}
	return "-----BEGIN " + label + "-----\n" + strings.Join(lines, "\n") + "\n-----END " + label + "-----"
}

// secret returns a planted value of kind and, for kinds that need it, the
// text around it that a human would write.
func (g *gen) positive(kind string) (value, prefix string) {
	switch kind {
	case "card":
		return g.card(), ""
	case "ssn":
		return g.ssn(), "SSN "
	case "iban":
		return g.iban(), ""
	case "email":
		return g.email(), ""
	case "phone":
		return g.phone(), ""
	case "ipv4":
		return g.ipv4(), ""
	case "ipv6":
		return g.ipv6(), ""
	case "jwt":
		return g.jwt(), ""
	case "auth_credential":
		if g.r.IntN(2) == 0 {
			return g.mixedToken(g.n(24, 48), alnum+"-._"), "Bearer "
		}
		return base64.StdEncoding.EncodeToString([]byte(g.pick(firstNames...) + ":" + g.mixedToken(10, alnum))), "Basic "
	case "url_credentials":
		return g.pick(firstNames...) + ":" + g.mixedToken(12, alnum), g.pick("https://", "postgres://", "ftp://")
	case "aws_access_key":
		return g.pick("AKIA", "ASIA") + g.chars(16, upperDig), ""
	case "aws_secret_key":
		return g.mixedToken(40, b64std), g.pick("aws secret ", "AWS_SECRET_ACCESS_KEY=", "aws key id and secret: ")
	case "github_token":
		if g.r.IntN(4) == 0 {
			return "github_pat_" + g.mixedToken(22, alnum) + "_" + g.mixedToken(59, alnum), ""
		}
		return g.pick("ghp_", "gho_", "ghs_", "ghu_") + g.mixedToken(36, alnum), ""
	case "gitlab_token":
		return "glpat-" + g.mixedToken(20, alnum+"-_"), ""
	case "slack_token":
		return g.pick("xoxb-", "xoxp-") + g.digits(12) + "-" + g.digits(13) + "-" + g.mixedToken(24, alnum), ""
	case "stripe_key":
		return g.pick("sk_live_", "sk_test_", "rk_live_") + g.mixedToken(g.n(24, 99), alnum), ""
	case "google_api_key":
		return "AIza" + g.mixedToken(35, b64url), ""
	case "openai_key":
		if g.r.IntN(2) == 0 {
			return "sk-proj-" + g.mixedToken(48, b64url), ""
		}
		return "sk-" + g.mixedToken(48, alnum), ""
	case "private_key":
		return g.private(), ""
	case "sensitive_field":
		return g.mixedToken(g.n(6, 16), alnum+"!$^~"), ""
	}
	panic("unknown kind " + kind)
}

var positiveKinds = []string{
	"card", "ssn", "iban", "email", "phone", "ipv4", "ipv6", "jwt", "auth_credential",
	"url_credentials", "aws_access_key", "aws_secret_key", "github_token", "gitlab_token",
	"slack_token", "stripe_key", "google_api_key", "openai_key", "private_key", "sensitive_field",
}

var negativeKinds = []string{
	"order_number", "timestamp", "uuid", "version", "tracking_number", "non_luhn_16",
	"price", "product_code", "hash", "date", "coordinates", "invalid_ssn",
}

func (g *gen) negative(kind string) string {
	switch kind {
	case "order_number":
		return g.pick("ORD-", "#", "Order ", "PO-", "INV-") + fmt.Sprint(2020+g.r.IntN(6)) + "-" + g.digits(g.n(5, 7))
	case "timestamp":
		switch g.r.IntN(4) {
		case 0:
			return fmt.Sprint(1600000000 + g.r.IntN(2e8))
		case 1:
			return fmt.Sprint(1600000000000 + g.r.Int64N(2e11))
		case 2:
			return fmt.Sprintf("2024-%02d-%02dT%02d:%02d:%02d.%03dZ", g.n(1, 12), g.n(1, 28), g.n(0, 23), g.n(0, 59), g.n(0, 59), g.n(0, 999))
		default:
			return fmt.Sprintf("%02d:%02d:%02d", g.n(0, 23), g.n(0, 59), g.n(0, 59))
		}
	case "uuid":
		h := g.chars(32, hexLower)
		return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + g.pick("8", "9", "a", "b") + h[17:20] + "-" + h[20:]
	case "version":
		return g.pick(
			fmt.Sprintf("v%d.%d.%d", g.n(0, 20), g.n(0, 40), g.n(0, 99)),
			fmt.Sprintf("%d.%d.%d-beta.%d", g.n(0, 9), g.n(0, 20), g.n(0, 9), g.n(1, 9)),
			fmt.Sprintf("Chrome/%d.0.%d.%d", g.n(100, 130), g.n(1000, 9999), g.n(10, 300)),
			fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/%d.0.0.0 Safari/537.36", g.n(100, 130)),
			fmt.Sprintf("%d.%d.%d.0", g.n(1, 9), g.n(0, 20), g.n(0, 9)),
			fmt.Sprintf("10.0.%d.%d", g.n(10000, 26000), g.n(256, 5000)),
		)
	case "tracking_number":
		switch g.r.IntN(4) {
		case 0:
			return "1Z" + g.chars(6, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") + g.digits(10)
		case 1:
			return group(g.digits(12), []int{4, 4, 4}, " ")
		case 2:
			return group("94"+g.digits(20), []int{4, 4, 4, 4, 4, 2}, " ")
		default:
			return "JJD" + g.digits(18)
		}
	case "non_luhn_16":
		for {
			d := g.pick("4", "5", "6", "3", "1") + g.digits(15)
			if luhnDigit(d[:15]) != d[15] {
				return d
			}
		}
	case "price":
		return g.pick(
			fmt.Sprintf("$%d,%03d.%02d", g.n(1, 99), g.n(0, 999), g.n(0, 99)),
			fmt.Sprintf("€%d.%02d", g.n(1, 9999), g.n(0, 99)),
			fmt.Sprintf("%d %03d,%02d kr", g.n(1, 99), g.n(0, 999), g.n(0, 99)),
			fmt.Sprintf("USD %d.%02d", g.n(1000, 999999), g.n(0, 99)),
		)
	case "product_code":
		return g.pick(
			fmt.Sprintf("SKU %s-%s-%s", g.digits(4), g.digits(3), g.digits(2)),
			fmt.Sprintf("PN %s-%s-%s", g.digits(2), g.digits(4), g.digits(3)),
			fmt.Sprintf("Model %s-%s", g.digits(3), g.digits(4)),
			fmt.Sprintf("ISBN 978-%d-%s-%s-%d", g.n(0, 9), g.digits(2), g.digits(6), g.n(0, 9)),
			fmt.Sprintf("item %s-%s-%s", g.digits(3), g.digits(3), g.digits(5)),
			fmt.Sprintf("ref %s.%s.%s", g.digits(3), g.digits(3), g.digits(3)),
		)
	case "hash":
		return g.pick(g.chars(40, hexLower), g.chars(64, hexLower), "sha256-"+g.chars(43, b64std)+"=")
	case "date":
		return g.pick(
			fmt.Sprintf("2024-%02d-%02d", g.n(1, 12), g.n(1, 28)),
			fmt.Sprintf("%02d/%02d/%d", g.n(1, 12), g.n(1, 28), g.n(1990, 2030)),
			fmt.Sprintf("%02d.%02d.%d", g.n(1, 28), g.n(1, 12), g.n(1990, 2030)),
		)
	case "coordinates":
		return fmt.Sprintf("%d.%04d, -%d.%04d", g.n(0, 89), g.n(0, 9999), g.n(0, 179), g.n(0, 9999))
	case "invalid_ssn":
		return g.pick("000", "666", fmt.Sprint(g.n(900, 999))) + "-" + g.digits(2) + "-" + g.digits(4)
	}
	panic("unknown negative " + kind)
}

var fillerWords = strings.Fields(`the quick account settings dashboard order summary shipping
	address delivery invoice welcome back your cart is empty continue checkout product details
	reviews rating price total subtotal discount apply coupon sign out help center contact us
	privacy terms of service notifications messages profile team members billing plan upgrade
	search results filter sort by newest popular categories home page menu close open next previous`)

func (g *gen) words(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = fillerWords[g.r.IntN(len(fillerWords))]
	}
	return strings.Join(w, " ")
}
