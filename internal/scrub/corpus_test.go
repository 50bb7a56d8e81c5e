package scrub_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/scrub"
)

// sample is one labelled message of the evaluation corpus.
type sample struct {
	kind     string // positive or negative kind
	positive bool
	value    string // the planted value
	context  string
	rrweb    bool
	msg      []byte
}

// rrweb builders -----------------------------------------------------------

type domBuilder struct{ id int }

func (d *domBuilder) next() int { d.id++; return d.id }

func (d *domBuilder) el(tag string, attrs map[string]any, children ...any) map[string]any {
	if attrs == nil {
		attrs = map[string]any{}
	}
	if children == nil {
		children = []any{}
	}
	return map[string]any{"type": 2, "tagName": tag, "attributes": attrs, "childNodes": children, "id": d.next()}
}

func (d *domBuilder) text(s string) map[string]any {
	return map[string]any{"type": 3, "textContent": s, "id": d.next()}
}

func (d *domBuilder) snapshot(body ...any) map[string]any {
	doc := map[string]any{"type": 0, "id": d.next(), "childNodes": []any{
		map[string]any{"type": 1, "name": "html", "publicId": "", "systemId": "", "id": d.next()},
		d.el("html", nil, d.el("head", nil, d.el("title", nil, d.text("Example Shop"))), d.el("body", nil, body...)),
	}}
	return map[string]any{"type": 2, "data": map[string]any{"node": doc, "initialOffset": map[string]any{"left": 0, "top": 0}}, "timestamp": 1712345678901}
}

func meta(href string) map[string]any {
	return map[string]any{"type": 4, "data": map[string]any{"href": href, "width": 1280, "height": 720}, "timestamp": 1712345678900}
}

func incr(data map[string]any) map[string]any {
	return map[string]any{"type": 3, "data": data, "timestamp": 1712345679000}
}

func plugin(name string, payload any) map[string]any {
	return map[string]any{"type": 6, "data": map[string]any{"plugin": name, "payload": payload}, "timestamp": 1712345679100}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// escapeAll writes s as a JSON string with every non-alphanumeric rune as
// a \u escape, the way some SDKs encode.
func escapeAll(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, r := range s {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			sb.WriteRune(r)
			continue
		}
		if r > 0xffff {
			sb.WriteRune(r)
			continue
		}
		fmt.Fprintf(&sb, `\u%04x`, r)
	}
	sb.WriteByte('"')
	return sb.String()
}

var rrwebContexts = []string{"text_node", "attribute", "href_query", "input", "console", "network_json_body",
	"network_form_body", "network_header", "meta_href", "mutation_text"}
var jsonContexts = []string{"property", "unicode_escaped", "embedded_json", "url_property"}

// plant builds the message for value v (with the text a human would put
// around it) in context ctx.
func plant(g *gen, kind, v, prefix, ctx string) (msg []byte, rr bool) {
	suffix := ""
	if kind == "url_credentials" {
		suffix = "@db.example.com:5432/app"
	}
	text := g.words(g.n(2, 6)) + " " + prefix + v + suffix + " " + g.words(g.n(1, 5))
	field := kind == "sensitive_field"
	fieldName := g.pick("password", "api_key", "accessToken", "X-Auth-Token", "session_id", "cvv", "client_secret")
	d := &domBuilder{}
	q := url.QueryEscape
	switch ctx {
	case "text_node":
		if field {
			text = fieldName + ": " + v
		}
		return mustJSON([]any{d.snapshot(d.el("p", nil, d.text(text)))}), true
	case "attribute":
		if field {
			return mustJSON([]any{d.snapshot(d.el("input", map[string]any{"type": "password", "name": "pw", "value": v}))}), true
		}
		return mustJSON([]any{d.snapshot(d.el("div", map[string]any{"class": "tooltip", "title": text}))}), true
	case "href_query", "meta_href":
		u := "https://shop.example.com/search?q=" + q(text) + "&page=2"
		if field {
			u = "https://shop.example.com/reset?" + fieldName + "=" + q(v) + "&lang=en"
		} else if kind == "url_credentials" {
			u = prefix + v + "@db.example.com/app?x=1"
		}
		if ctx == "meta_href" {
			return mustJSON([]any{meta(u)}), true
		}
		return mustJSON([]any{d.snapshot(d.el("a", map[string]any{"href": u}, d.text("link")))}), true
	case "input":
		in := d.el("input", map[string]any{"type": "text", "name": "comment"})
		if field {
			in = d.el("input", map[string]any{"type": "password", "autocomplete": "current-password"})
		}
		id := in["id"]
		return mustJSON([]any{d.snapshot(in), incr(map[string]any{"source": 5, "id": id, "text": prefix + v + suffix, "isChecked": false})}), true
	case "console":
		if field {
			text = "login payload " + string(mustJSON(map[string]any{fieldName: v}))
		}
		return mustJSON([]any{plugin("rrweb/console@1", map[string]any{"level": "log", "payload": []string{string(mustJSON(text))}, "trace": []string{"app.js:10:5"}})}), true
	case "network_json_body", "network_form_body", "network_header":
		req := map[string]any{"url": "https://api.example.com/v1/comments", "method": "POST", "initiatorType": "fetch", "status": 200,
			"startTime": 1200.5, "endTime": 1300.25, "requestHeaders": map[string]any{"content-type": "application/json"}}
		switch ctx {
		case "network_json_body":
			body := map[string]any{"comment": text, "rating": 5}
			if field {
				body = map[string]any{"user": "bob", fieldName: v}
			}
			req["requestBody"] = string(mustJSON(body))
		case "network_form_body":
			req["requestBody"] = "rating=5&comment=" + q(text)
			if field {
				req["requestBody"] = "user=bob&" + fieldName + "=" + q(v) + "&remember=1"
			}
		default:
			req["requestHeaders"] = map[string]any{"content-type": "application/json", "x-debug-note": text}
			if field {
				req["requestHeaders"] = map[string]any{"Authorization": "Token " + v}
			}
		}
		return mustJSON([]any{plugin("rrweb/network@1", map[string]any{"requests": []any{req}})}), true
	case "mutation_text":
		if field {
			text = fieldName + "=" + v
		}
		return mustJSON([]any{incr(map[string]any{"source": 0, "texts": []any{map[string]any{"id": 42, "value": text}}, "attributes": []any{}, "removes": []any{}, "adds": []any{}})}), true
	case "property":
		props := map[string]any{"note": text, "plan": "pro", "seats": 3}
		if field {
			props = map[string]any{fieldName: v, "plan": "pro"}
		}
		return mustJSON(map[string]any{"type": "track", "event": "Form Submitted", "properties": props, "messageId": "m-1"}), false
	case "unicode_escaped":
		key, val := "note", text
		if field {
			key, val = fieldName, v
		}
		return []byte(`{"type":"track","event":"Form Submitted","properties":{` + escapeAll(key) + `:` + escapeAll(val) + `}}`), false
	case "embedded_json":
		inner := map[string]any{"msg": text}
		if field {
			inner = map[string]any{fieldName: v}
		}
		return mustJSON(map[string]any{"type": "track", "event": "API Error", "properties": map[string]any{"payload": string(mustJSON(inner))}}), false
	case "url_property":
		u := "https://shop.example.com/search?q=" + q(text)
		if field {
			u = "https://shop.example.com/cb?" + fieldName + "=" + q(v)
		} else if kind == "url_credentials" {
			u = prefix + v + "@db.example.com/app"
		}
		return mustJSON(map[string]any{"type": "page", "context": map[string]any{"page": map[string]any{"url": u}}}), false
	}
	panic("unknown context " + ctx)
}

// buildCorpus returns perCell samples for every (kind, context) pair.
func buildCorpus(seed uint64, perCell int) []sample {
	g := newGen(seed)
	var out []sample
	ctxs := append(append([]string(nil), rrwebContexts...), jsonContexts...)
	for _, kind := range positiveKinds {
		for _, ctx := range ctxs {
			for i := 0; i < perCell; i++ {
				v, prefix := g.positive(kind)
				msg, rr := plant(g, kind, v, prefix, ctx)
				out = append(out, sample{kind: kind, positive: true, value: v, context: ctx, rrweb: rr, msg: msg})
			}
		}
	}
	for _, kind := range negativeKinds {
		for _, ctx := range ctxs {
			for i := 0; i < perCell; i++ {
				v := g.negative(kind)
				msg, rr := plant(g, kind, v, "", ctx)
				out = append(out, sample{kind: kind, value: v, context: ctx, rrweb: rr, msg: msg})
			}
		}
	}
	return out
}

// strings collects every string in a JSON document, recursing into strings
// that hold JSON, with URL-decoded variants.
func allStrings(b []byte) []string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return []string{string(b)}
	}
	var out []string
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				out = append(out, k)
				walk(e, depth)
			}
		case []any:
			for _, e := range x {
				walk(e, depth)
			}
		case string:
			out = append(out, x)
			if u, err := url.QueryUnescape(x); err == nil && u != x {
				out = append(out, u)
			}
			if u, err := url.PathUnescape(x); err == nil && u != x {
				out = append(out, u)
			}
			var inner any
			if depth < 3 && json.Unmarshal([]byte(x), &inner) == nil {
				walk(inner, depth+1)
			}
		}
	}
	walk(v, 0)
	return out
}

func containsAny(ss []string, v string) bool {
	for _, s := range ss {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// core is the part of a planted value that must not survive.
func core(kind, v string) string {
	if kind == "private_key" {
		return strings.Split(v, "\n")[1]
	}
	return v
}

func scrubSample(s *scrub.Scrubber, sm sample) ([]byte, scrub.Report, error) {
	if sm.rrweb {
		return s.RRWeb(sm.msg)
	}
	return s.JSON(sm.msg)
}

// TestCorpus measures recall per planted kind and false positives per
// detector on the seeded corpus, and asserts the targets (recall ≥ 99.5 %,
// false positives ≤ 0.5 %).
func TestCorpus(t *testing.T) {
	s := mustScrubber(t, scrub.Rules{})
	corpus := buildCorpus(20240601, 25)
	type tally struct{ n, ok int }
	recall := map[string]*tally{}
	negAltered := map[string]*tally{}
	fpByDet := map[string]int{}
	negTotal := 0
	shown := map[string]int{}
	for _, sm := range corpus {
		out, rep, err := scrubSample(s, sm)
		if err != nil {
			t.Fatalf("%s/%s: %v", sm.kind, sm.context, err)
		}
		strs := allStrings(out)
		if sm.positive {
			tl := recall[sm.kind]
			if tl == nil {
				tl = &tally{}
				recall[sm.kind] = tl
			}
			tl.n++
			if !containsAny(strs, core(sm.kind, sm.value)) {
				tl.ok++
			} else if shown[sm.kind] < 3 {
				shown[sm.kind]++
				t.Logf("MISSED %s in %s: %q\n  out: %s", sm.kind, sm.context, sm.value, out)
			}
			continue
		}
		negTotal++
		tl := negAltered[sm.kind]
		if tl == nil {
			tl = &tally{}
			negAltered[sm.kind] = tl
		}
		tl.n++
		if !containsAny(strs, sm.value) || rep.Total() > 0 {
			tl.ok++ // ok counts alterations here
			for d := range rep {
				fpByDet[d]++
			}
			if shown[sm.kind] < 3 {
				shown[sm.kind]++
				t.Logf("FALSE POSITIVE %s in %s: %q (%v)\n  out: %s", sm.kind, sm.context, sm.value, rep, out)
			}
		}
	}
	t.Logf("corpus: %d samples (%d negatives), seed 20240601", len(corpus), negTotal)
	t.Logf("%-18s %8s %8s", "planted kind", "samples", "recall")
	for _, k := range positiveKinds {
		tl := recall[k]
		r := 100 * float64(tl.ok) / float64(tl.n)
		t.Logf("%-18s %8d %7.2f%%", k, tl.n, r)
		if r < 99.5 {
			t.Errorf("recall for %s is %.2f%%, target 99.5%%", k, r)
		}
	}
	t.Logf("%-18s %8s %8s", "hard negative", "samples", "altered")
	for _, k := range negativeKinds {
		tl := negAltered[k]
		t.Logf("%-18s %8d %7.2f%%", k, tl.n, 100*float64(tl.ok)/float64(tl.n))
	}
	dets := scrub.Detectors()
	sort.Strings(dets)
	t.Logf("%-18s %s", "detector", "false-positive rate on all negatives")
	for _, d := range dets {
		fp := 100 * float64(fpByDet[d]) / float64(negTotal)
		t.Logf("%-18s %7.2f%%", d, fp)
		if fp > 0.5 {
			t.Errorf("false-positive rate of %s is %.2f%%, target 0.5%%", d, fp)
		}
	}
}

// TestCorpus_Ambiguous logs (does not assert) how often shapes that cannot
// be told apart from PII by their text alone are removed; docs/scrubbing.md
// lists them as known limits.
func TestCorpus_Ambiguous(t *testing.T) {
	s := mustScrubber(t, scrub.Rules{})
	g := newGen(5)
	cases := map[string]func() string{
		"random 16-digit ids (any checksum)": func() string { return g.digits(16) },
		"4-part versions a.b.c.d (d>0)":      func() string { return fmt.Sprintf("%d.%d.%d.%d", g.n(1, 20), g.n(0, 20), g.n(0, 20), g.n(1, 200)) },
		"NANP-shaped part numbers 3-3-4":     func() string { return fmt.Sprintf("%d-%d-%s", g.n(200, 999), g.n(200, 999), g.digits(4)) },
	}
	for name, f := range cases {
		hit := 0
		const n = 2000
		for i := 0; i < n; i++ {
			if _, rep := s.Text("id " + f() + " ok"); rep.Total() > 0 {
				hit++
			}
		}
		t.Logf("%-36s removed %5.1f%%", name, 100*float64(hit)/n)
	}
}
