package scrub_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/scrub"
)

// bigSnapshot builds a realistic rrweb FullSnapshot of about size bytes:
// nested layout, class names, inline styles, links with query strings,
// images, prices, dates and a stylesheet, with a few planted hits.
func bigSnapshot(size int) []byte {
	g := newGen(42)
	d := &domBuilder{}
	var sections []any
	css := d.el("style", nil, map[string]any{"type": 3, "isStyle": true, "id": d.next(),
		"textContent": strings.Repeat(".card{margin:0 8px;padding:12px 16px;color:#333;font:14px/1.4 system-ui}.btn:hover{background:rgba(0,0,0,.05)} @media (max-width:600px){.grid{grid-template-columns:1fr}} ", 20)})
	sections = append(sections, css)
	total := 0
	for i := 0; total < size; i++ {
		price := fmt.Sprintf("$%d.%02d", g.n(5, 999), g.n(0, 99))
		item := d.el("div", map[string]any{"class": "card product-tile col-md-4", "style": "width: 320px; height: 180px;", "data-testid": fmt.Sprintf("tile-%d", i)},
			d.el("a", map[string]any{"href": fmt.Sprintf("/products/%s-%d?ref=home%%20page&utm_source=newsletter", g.pick(fillerWords...), g.n(1000, 99999))},
				d.el("img", map[string]any{"src": fmt.Sprintf("https://cdn.example.com/img/%s.webp?w=640", g.chars(12, hexLower)), "alt": g.words(3), "loading": "lazy"})),
			d.el("h3", map[string]any{"class": "title"}, d.text(g.words(g.n(2, 6)))),
			d.el("p", map[string]any{"class": "desc text-muted"}, d.text(g.words(g.n(10, 30)))),
			d.el("span", map[string]any{"class": "price"}, d.text(price)),
			d.el("time", map[string]any{"datetime": fmt.Sprintf("2024-%02d-%02d", g.n(1, 12), g.n(1, 28))}, d.text(fmt.Sprintf("Updated %d days ago", g.n(1, 30)))),
		)
		if i%97 == 13 { // a few hits
			item = d.el("div", map[string]any{"class": "contact"}, d.text("Questions? "+g.email()), d.el("input", map[string]any{"type": "text", "value": g.phone()}))
		}
		sections = append(sections, item)
		total += 900
	}
	b := mustJSON([]any{d.snapshot(d.el("main", map[string]any{"id": "app", "class": "container"}, sections...))})
	return b
}

func eventBatch(n int) []byte {
	g := newGen(7)
	var batch []any
	for i := 0; i < n; i++ {
		batch = append(batch, map[string]any{
			"type": "track", "event": g.pick("Product Viewed", "Order Completed", "Signed Up", "Checkout Started"),
			"userId": fmt.Sprintf("user_%d", g.n(1, 100000)), "messageId": g.negative("uuid"),
			"timestamp": g.negative("timestamp"),
			"properties": map[string]any{"product_id": g.digits(8), "sku": g.negative("product_code"), "price": g.n(1, 500),
				"currency": "USD", "name": g.words(3), "url": "https://shop.example.com/p/" + g.digits(6) + "?ref=email"},
			"context": map[string]any{"library": map[string]any{"name": "analytics.js", "version": "4.1.0"},
				"page":      map[string]any{"path": "/products", "title": g.words(4), "referrer": "https://www.example.org/"},
				"userAgent": g.negative("version"), "locale": "en-US"},
		})
	}
	return mustJSON(map[string]any{"batch": batch})
}

func denseText(size int) []byte {
	g := newGen(3)
	var sb strings.Builder
	for sb.Len() < size {
		for _, k := range []string{"email", "card", "phone", "ipv4", "ssn", "jwt", "iban", "aws_access_key"} {
			v, p := g.positive(k)
			sb.WriteString(p + v + " " + g.words(2) + " ")
		}
		sb.WriteString("password=" + g.digits(8) + "&token=" + g.chars(16, alnum) + " ")
	}
	return mustJSON(map[string]any{"log": sb.String()})
}

func BenchmarkRRWebSnapshot300KB(b *testing.B) {
	s := scrub.MustNew(scrub.Rules{})
	in := bigSnapshot(300 << 10)
	out, rep, err := s.RRWeb(in)
	if err != nil || !json.Valid(out) {
		b.Fatal(err)
	}
	b.Logf("input %d bytes, %d redactions (%v)", len(in), rep.Total(), rep)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s.RRWeb(in)
	}
}

func BenchmarkRRWebSnapshotClean300KB(b *testing.B) {
	s := scrub.MustNew(scrub.Rules{})
	in := bigSnapshot(300 << 10)
	out, _, _ := s.RRWeb(in)
	in = append([]byte(nil), out...) // already scrubbed: no hits left
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s.RRWeb(in)
	}
}

func BenchmarkEventBatch(b *testing.B) {
	s := scrub.MustNew(scrub.Rules{})
	in := eventBatch(100)
	_, rep, err := s.JSON(in)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("batch of 100 events, %d bytes, %d redactions", len(in), rep.Total())
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s.JSON(in)
	}
}

func BenchmarkDenseWorstCase(b *testing.B) {
	s := scrub.MustNew(scrub.Rules{})
	in := denseText(64 << 10)
	_, rep, _ := s.JSON(in)
	b.Logf("dense: %d bytes, %d redactions", len(in), rep.Total())
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s.JSON(in)
	}
}

func BenchmarkText(b *testing.B) {
	s := scrub.MustNew(scrub.Rules{})
	in := strings.Repeat("Welcome back! Your order #100234 of $129.99 ships 2024-03-15. ", 100)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s.Text(in)
	}
}

// gitleaksStyle is a comparison baseline: one RE2 regex per kind over the
// whole payload, the way gitleaks-style scanners work (no validation).
var gitleaksStyle = []*regexp.Regexp{
	regexp.MustCompile(`\b(?:\d[ -]*?){13,19}\b`),
	regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`),
	regexp.MustCompile(`[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}`),
	regexp.MustCompile(`\+?\d{1,3}[ .-]?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}`),
	regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`),
	regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`),
	regexp.MustCompile(`(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}`),
	regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{36}`),
	regexp.MustCompile(`glpat-[A-Za-z0-9_-]{20}`),
	regexp.MustCompile(`xox[baprs]-[A-Za-z0-9-]{10,}`),
	regexp.MustCompile(`(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}`),
	regexp.MustCompile(`AIza[0-9A-Za-z_-]{35}`),
	regexp.MustCompile(`-----BEGIN[ A-Z]*PRIVATE KEY-----`),
	regexp.MustCompile(`[A-Z]{2}\d{2}[A-Z0-9]{11,30}`),
	regexp.MustCompile(`(?i)(?:password|secret|token|api_?key)["']?\s*[:=]\s*["']?[^\s"'&]+`),
}

func BenchmarkGitleaksStyleRegex300KB(b *testing.B) {
	in := bigSnapshot(300 << 10)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		for _, re := range gitleaksStyle {
			re.FindAllIndex(in, -1)
		}
	}
}

// BenchmarkJSONValidBaseline is encoding/json.Valid on the same snapshot:
// a floor for any scrubber that must at least validate its input.
func BenchmarkJSONValidBaseline300KB(b *testing.B) {
	in := bigSnapshot(300 << 10)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		json.Valid(in)
	}
}
