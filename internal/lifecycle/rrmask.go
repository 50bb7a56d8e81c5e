package lifecycle

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Replay masking for anonymized copies: the rrweb structure (node types,
// ids, tag names, layout attributes, CSS, timing, mouse movement) stays;
// every text node, text-bearing attribute, input value, console and
// network payload and custom-event payload is replaced by '*' of the
// same length; URLs keep scheme, host and route-like path segments.

// rrKeep are object keys whose string values are structure, kept as is.
var rrKeep = map[string]bool{
	"tagName": true, "plugin": true, "level": true, "tag": true, "publicId": true, "systemId": true,
	"initiatorType": true, "method": true, "trigger": true,
	"rule": true, "property": true, // CSSOM mutations: style sheet rules and property names (CSS, not page text)
}

// rrURL are object keys holding URLs.
var rrURL = map[string]bool{"href": true, "src": true, "url": true}

// attrKeep are element attributes kept as they are (layout and CSS).
var attrKeep = map[string]bool{
	"class": true, "id": true, "style": true, "rel": true, "type": true, "role": true, "lang": true, "dir": true,
	"for": true, "name": true, "width": true, "height": true, "media": true, "charset": true, "crossorigin": true,
	"integrity": true, "method": true, "target": true, "tabindex": true, "colspan": true, "rowspan": true, "span": true,
	"disabled": true, "checked": true, "selected": true, "readonly": true, "required": true, "hidden": true,
	"autocomplete": true, "viewbox": true, "d": true, "fill": true, "stroke": true, "xmlns": true, "points": true,
	"transform": true, "x": true, "y": true, "cx": true, "cy": true, "r": true, "rx": true, "ry": true, "x1": true,
	"x2": true, "y1": true, "y2": true, "stroke-width": true, "opacity": true, "_csstext": true, "sizes": true,
	"loading": true, "decoding": true, "async": true, "defer": true, "http-equiv": true, "as": true,
	"referrerpolicy": true, "sandbox": true, "align": true, "valign": true, "border": true, "maxlength": true,
	"minlength": true, "min": true, "max": true, "step": true, "accept": true, "enctype": true, "multiple": true,
	"size": true, "cols": true, "rows": true, "start": true, "fill-rule": true, "clip-rule": true,
	"stroke-linecap": true, "stroke-linejoin": true, "preserveaspectratio": true, "focusable": true,
	"aria-hidden": true, "aria-expanded": true, "aria-haspopup": true, "aria-controls": true, "aria-labelledby": true,
	"aria-describedby": true,
}

// attrURL are element attributes holding URLs.
var attrURL = map[string]bool{"href": true, "src": true, "action": true, "poster": true, "xlink:href": true, "data": true, "formaction": true}

// Replay masks one segment's rrweb events (a JSON array) and returns the
// new JSON.
func (f *faker) Replay(plain []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.UseNumber()
	var events any
	if err := dec.Decode(&events); err != nil {
		return nil, err
	}
	out := f.rrValue("", events, false)
	return json.Marshal(out)
}

func (f *faker) maskURL(s string) string { return f.URL(s, mask) }

// rrValue masks v, found under key; style says v is inside a <style>
// element or a node marked isStyle (CSS text is kept).
func (f *faker) rrValue(key string, v any, style bool) any {
	switch x := v.(type) {
	case string:
		switch {
		case rrKeep[key]:
			return x
		case rrURL[key]:
			return f.maskURL(x)
		case key == "textContent" && style:
			return x
		}
		return mask(x)
	case []any:
		for i, e := range x {
			x[i] = f.rrValue(key, e, style)
		}
		return x
	case map[string]any:
		if b, _ := x["isStyle"].(bool); b {
			style = true
		}
		if tn, _ := x["tagName"].(string); strings.EqualFold(tn, "style") {
			style = true
		}
		if t, ok := x["type"].(json.Number); ok && t.String() == "1" { // a doctype node: <!DOCTYPE html>
			if n, _ := x["name"].(string); strings.EqualFold(n, "html") {
				for k, e := range x {
					if k != "name" && k != "publicId" && k != "systemId" {
						x[k] = f.rrValue(k, e, style)
					}
				}
				return x
			}
		}
		for k, e := range x {
			if k == "attributes" {
				if am, ok := e.(map[string]any); ok {
					x[k] = f.rrAttrs(am)
					continue
				}
			}
			x[k] = f.rrValue(k, e, style)
		}
		return x
	}
	return v
}

// rrAttrs masks an element's attributes (a snapshot node's, or a
// mutation's changed attributes).
func (f *faker) rrAttrs(attrs map[string]any) map[string]any {
	for k, v := range attrs {
		s, ok := v.(string)
		if !ok {
			continue // null (removed), numbers, or a style object in a mutation
		}
		lk := strings.ToLower(k)
		switch {
		case attrKeep[lk] || strings.HasPrefix(lk, "rr_") && lk != "rr_dataurl": // inlined images are content
		case attrURL[lk]:
			attrs[k] = f.maskURL(s)
		default:
			attrs[k] = mask(s)
		}
	}
	return attrs
}
