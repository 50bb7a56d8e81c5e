package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The replay sanitizer rewrites a recording before it reaches the player
// so that playing it can neither run code nor make a request: it is the
// first of two walls, the player page's CSP (default-src 'none') being the
// second. It removes
//
//   - <script> elements (renamed to inert <template>s, children dropped),
//   - on* event-handler attributes and srcdoc,
//   - every URL-carrying attribute whose value is not a fragment or an
//     inline data: image (external images, stylesheets, fonts, frames,
//     javascript: links, form actions, SVG hrefs),
//   - <meta http-equiv> (refresh) and <base href>,
//   - url(…) references other than data: URLs, image-set() and @import in
//     CSS (style attributes, inlined stylesheets, style text, CSSOM rule
//     events),
//   - font-loading and canvas events, which the Replayer would turn into
//     requests.
//
// It keeps ids and structure, so later mutations still find their nodes.

// rrweb event and incremental source numbers (rrweb/packages/types).
const (
	evFullSnapshot = 2
	evIncremental  = 3

	srcMutation         = 0
	srcStyleSheetRule   = 8
	srcCanvasMutation   = 9
	srcFont             = 10
	srcStyleDeclaration = 13
	srcAdoptedStyle     = 15
)

var urlAttrs = map[string]bool{
	"href": true, "src": true, "srcset": true, "action": true, "formaction": true, "poster": true,
	"background": true, "xlink:href": true, "data": true, "codebase": true, "cite": true, "ping": true,
	"lowsrc": true, "dynsrc": true, "manifest": true, "longdesc": true, "icon": true, "profile": true,
	"archive": true, "classid": true, "imagesrcset": true, "attributionsrc": true,
}

// sanitizeReplay rewrites a JSON array of rrweb events.
func sanitizeReplay(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var events []any
	if err := dec.Decode(&events); err != nil {
		return nil, fmt.Errorf("decode replay: %w", err)
	}
	out := events[:0]
	for _, ev := range events {
		if e, ok := ev.(map[string]any); ok && sanitizeEvent(e) {
			out = append(out, e)
		}
	}
	return json.Marshal(out)
}

// sanitizeEvent cleans one decoded rrweb event in place; false drops it.
func sanitizeEvent(e map[string]any) bool {
	data, _ := e["data"].(map[string]any)
	switch num(e["type"]) {
	case evFullSnapshot:
		if data != nil {
			sanitizeNode(data["node"], "")
		}
	case evIncremental:
		if data == nil || !sanitizeIncremental(data) {
			return false
		}
	}
	// Element nodes anywhere else (paths a later rrweb may add) get the
	// same treatment.
	anyNodes(e)
	return true
}

func anyNodes(v any) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["tagName"].(string); ok && num(v["type"]) == 2 {
			sanitizeNode(v, "")
			return
		}
		for _, x := range v {
			anyNodes(x)
		}
	case []any:
		for _, x := range v {
			anyNodes(x)
		}
	}
}

// num is v as an int when it is a JSON number with an integral value
// (2, 2.0 and 2e0 alike, as JavaScript reads them), else -1.
func num(v any) int {
	n, ok := v.(json.Number)
	if !ok {
		return -1
	}
	f, err := n.Float64()
	if err != nil || f != float64(int(f)) {
		return -1
	}
	return int(f)
}

// sanitizeIncremental cleans one incremental event in place; false drops it.
func sanitizeIncremental(d map[string]any) bool {
	switch num(d["source"]) {
	case srcMutation:
		for _, a := range list(d["adds"]) {
			if m, ok := a.(map[string]any); ok {
				sanitizeNode(m["node"], "")
			}
		}
		for _, t := range list(d["texts"]) {
			if m, ok := t.(map[string]any); ok {
				if s, ok := m["value"].(string); ok {
					m["value"] = sanitizeCSS(s)
				}
			}
		}
		for _, a := range list(d["attributes"]) {
			m, ok := a.(map[string]any)
			if !ok {
				continue
			}
			attrs, _ := m["attributes"].(map[string]any)
			for k, v := range attrs {
				switch v := v.(type) {
				case string:
					if drop, nv := cleanAttr("", k, v); drop {
						attrs[k] = nil
					} else {
						attrs[k] = nv
					}
				case map[string]any: // a style diff
					for p, pv := range v {
						switch pv := pv.(type) {
						case string:
							v[p] = sanitizeCSS(pv)
						case []any:
							if len(pv) > 0 {
								if s, ok := pv[0].(string); ok {
									pv[0] = sanitizeCSS(s)
								}
							}
						}
					}
				}
			}
		}
	case srcStyleSheetRule:
		for _, a := range list(d["adds"]) {
			if m, ok := a.(map[string]any); ok {
				if s, ok := m["rule"].(string); ok {
					m["rule"] = sanitizeCSS(s)
				}
			}
		}
	case srcStyleDeclaration:
		if set, ok := d["set"].(map[string]any); ok {
			if s, ok := set["value"].(string); ok {
				set["value"] = sanitizeCSS(s)
			}
		}
	case srcAdoptedStyle:
		for _, st := range list(d["styles"]) {
			m, _ := st.(map[string]any)
			for _, r := range list(m["rules"]) {
				if rm, ok := r.(map[string]any); ok {
					if s, ok := rm["rule"].(string); ok {
						rm["rule"] = sanitizeCSS(s)
					}
				}
			}
		}
	case srcFont, srcCanvasMutation:
		return false
	}
	return true
}

func list(v any) []any { l, _ := v.([]any); return l }

// sanitizeNode cleans a serialized node and its children in place.
func sanitizeNode(v any, parentTag string) {
	n, ok := v.(map[string]any)
	if !ok {
		return
	}
	switch num(n["type"]) {
	case 2: // element
		tag, _ := n["tagName"].(string)
		tag = strings.ToLower(tag)
		attrs, _ := n["attributes"].(map[string]any)
		if tag == "script" {
			n["tagName"] = "template"
			n["attributes"] = map[string]any{}
			n["childNodes"] = []any{}
			return
		}
		for k, av := range attrs {
			s, _ := av.(string)
			if _, isStr := av.(string); !isStr && av != nil && av != true && av != false {
				if _, isNum := av.(json.Number); !isNum {
					delete(attrs, k)
					continue
				}
			}
			if drop, nv := cleanAttr(tag, k, s); drop {
				delete(attrs, k)
			} else if _, isStr := av.(string); isStr {
				attrs[k] = nv
			}
		}
		if tag == "meta" && attrs != nil {
			if _, ok := attrs["http-equiv"]; ok {
				delete(attrs, "http-equiv")
				delete(attrs, "content")
			}
		}
		if tag == "base" && attrs != nil {
			delete(attrs, "href")
			delete(attrs, "target")
		}
		for _, c := range list(n["childNodes"]) {
			sanitizeNode(c, tag)
		}
	case 3: // text
		if s, ok := n["textContent"].(string); ok && (parentTag == "style" || n["isStyle"] == true || strings.ContainsAny(s, "(@")) {
			n["textContent"] = sanitizeCSS(s)
		}
	default:
		for _, c := range list(n["childNodes"]) {
			sanitizeNode(c, "")
		}
	}
}

// cleanAttr says whether attribute k (of tag, "" when unknown) must go,
// or else its cleaned value.
func cleanAttr(tag, k, v string) (drop bool, clean string) {
	k = strings.ToLower(k)
	switch {
	case strings.HasPrefix(k, "on"), k == "srcdoc", k == "http-equiv" && tag == "":
		return true, ""
	case urlAttrs[k] || strings.HasSuffix(k, ":href"):
		return !safeURL(v), v
	case k == "style" || k == "_csstext":
		return false, sanitizeCSS(v)
	case (k == "from" || k == "to" || k == "values" || k == "by") && (tag == "" || strings.HasPrefix(tag, "animate") || tag == "set"):
		// SVG animation can set an href to anything.
		return true, ""
	}
	return false, v
}

func safeURL(v string) bool {
	v = strings.TrimSpace(strings.ToLower(v))
	return strings.HasPrefix(v, "#") || strings.HasPrefix(v, "data:image/") && !strings.HasPrefix(v, "data:image/svg")
}

var (
	cssURL    = regexp.MustCompile(`(?i)url\(\s*(?:"[^"]*"|'[^']*'|[^)]*)\s*\)`)
	cssImport = regexp.MustCompile(`(?i)@import[^;]*;?`)
	cssSet    = regexp.MustCompile(`(?i)(?:-webkit-)?image-set\([^)]*\)`)
	cssEscape = regexp.MustCompile(`\\[0-9a-fA-F]{1,6}\s?|\\[^0-9a-fA-F\n]`)
)

// sanitizeCSS replaces every url() that is not an inline data: image with
// none and removes @import and image-set(). CSS escapes can spell url(
// (\75 rl(), so text holding escapes and a parenthesis is decoded first.
func sanitizeCSS(s string) string {
	if !strings.ContainsAny(s, "(@") {
		return s
	}
	if strings.Contains(s, `\`) && strings.Contains(s, "(") {
		s = cssEscape.ReplaceAllStringFunc(s, func(e string) string {
			h := strings.TrimSpace(e[1:])
			if v, err := strconv.ParseUint(h, 16, 32); err == nil && len(h) > 0 {
				if v == 0 || v > 0x10FFFF {
					return "\uFFFD"
				}
				return string(rune(v))
			}
			return e[1:]
		})
	}
	s = cssImport.ReplaceAllString(s, "")
	s = cssURL.ReplaceAllStringFunc(s, func(m string) string {
		inner := strings.TrimSpace(m[4 : len(m)-1])
		inner = strings.Trim(inner, `"'`)
		if safeURL(inner) {
			return m
		}
		return "none"
	})
	return cssSet.ReplaceAllString(s, "none")
}
