package keyring_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

// rrweb's serialized node, as the recorder emits it.
type rrNode struct {
	Type        int               `json:"type"`
	Name        string            `json:"name,omitempty"`
	TagName     string            `json:"tagName,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	ChildNodes  []*rrNode         `json:"childNodes,omitempty"`
	TextContent *string           `json:"textContent,omitempty"`
	ID          int               `json:"id"`
}

type rrEvent struct {
	Type      int   `json:"type"`
	Data      any   `json:"data"`
	Timestamp int64 `json:"timestamp"`
}

// rrGen makes DOM-shaped data: a fixed vocabulary of tags and classes,
// masked text (asterisks, as the SDK masks it) and some unmasked labels.
type rrGen struct {
	r  *rand.Rand
	id int
}

var (
	rrTags    = []string{"div", "div", "div", "span", "span", "a", "li", "ul", "p", "button", "svg", "path", "img", "input", "label", "section", "nav", "h2"}
	rrClasses = []string{"flex", "items-center", "justify-between", "px-4", "py-2", "text-sm", "font-medium", "text-gray-700", "hover:bg-gray-50",
		"rounded-md", "card", "card__header", "card__body", "btn", "btn--primary", "nav__item", "nav__item--active", "grid", "gap-4", "truncate"}
	rrWords = []string{"Dashboard", "Settings", "Projects", "Sessions", "Export", "Filter", "Save", "Cancel", "Overview", "Members"}
)

func (g *rrGen) nextID() int { g.id++; return g.id }

func (g *rrGen) text() *string {
	var s string
	if g.r.IntN(4) == 0 {
		s = rrWords[g.r.IntN(len(rrWords))]
	} else {
		s = strings.Repeat("*", 3+g.r.IntN(40))
	}
	return &s
}

func (g *rrGen) element(depth int) *rrNode {
	tag := rrTags[g.r.IntN(len(rrTags))]
	n := &rrNode{Type: 2, TagName: tag, ID: g.nextID(), Attributes: map[string]string{}}
	var cls []string
	for range 1 + g.r.IntN(4) {
		cls = append(cls, rrClasses[g.r.IntN(len(rrClasses))])
	}
	n.Attributes["class"] = strings.Join(cls, " ")
	switch tag {
	case "a":
		n.Attributes["href"] = fmt.Sprintf("/projects/%d/sessions", g.r.IntN(100))
	case "img":
		n.Attributes["rr_width"], n.Attributes["rr_height"] = "24px", "24px"
	case "input":
		n.Attributes["type"], n.Attributes["value"] = "text", strings.Repeat("*", g.r.IntN(12))
	case "path":
		n.Attributes["d"] = fmt.Sprintf("M%d %dL%d %dZ", g.r.IntN(24), g.r.IntN(24), g.r.IntN(24), g.r.IntN(24))
	}
	if g.r.IntN(5) == 0 {
		n.Attributes["data-testid"] = fmt.Sprintf("row-%d", g.r.IntN(50))
	}
	if depth > 0 {
		for range g.r.IntN(5) {
			if g.r.IntN(3) == 0 {
				n.ChildNodes = append(n.ChildNodes, &rrNode{Type: 3, TextContent: g.text(), ID: g.nextID()})
			} else {
				n.ChildNodes = append(n.ChildNodes, g.element(depth-1))
			}
		}
	}
	return n
}

// RRWebJSON returns at least size bytes of synthetic but realistic rrweb
// recording: meta, a full DOM snapshot, then incremental mutations, mouse
// moves, scrolls and inputs. It is deterministic.
func RRWebJSON(size int) []byte {
	g := &rrGen{r: rand.New(rand.NewPCG(1, 2))}
	ts := int64(1_760_000_000_000)
	events := []rrEvent{{Type: 4, Data: map[string]any{"href": "https://app.example.com/dashboard", "width": 1440, "height": 900}, Timestamp: ts}}
	doc := &rrNode{Type: 0, ID: g.nextID(), ChildNodes: []*rrNode{
		{Type: 1, Name: "html", ID: g.nextID()},
		{Type: 2, TagName: "html", ID: g.nextID(), Attributes: map[string]string{"lang": "en"}, ChildNodes: []*rrNode{g.element(5), g.element(5)}},
	}}
	events = append(events, rrEvent{Type: 2, Data: map[string]any{"node": doc, "initialOffset": map[string]int{"left": 0, "top": 0}}, Timestamp: ts})
	out := []byte{'['}
	add := func(e rrEvent) {
		b, err := json.Marshal(e)
		if err != nil {
			panic(err)
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	for _, e := range events {
		add(e)
	}
	for len(out)+1 < size {
		ts += int64(g.r.IntN(200))
		var data map[string]any
		switch g.r.IntN(4) {
		case 0: // mutation
			data = map[string]any{"source": 0, "texts": []any{}, "attributes": []any{}, "removes": []any{},
				"adds": []any{map[string]any{"parentId": g.r.IntN(g.id) + 1, "nextId": nil, "node": g.element(2)}}}
		case 1: // mouse moves
			var pos []map[string]int
			for range 1 + g.r.IntN(6) {
				pos = append(pos, map[string]int{"x": g.r.IntN(1440), "y": g.r.IntN(900), "id": g.r.IntN(g.id) + 1, "timeOffset": -g.r.IntN(500)})
			}
			data = map[string]any{"source": 1, "positions": pos}
		case 2: // scroll
			data = map[string]any{"source": 3, "id": 1, "x": 0, "y": g.r.IntN(4000)}
		default: // masked input
			data = map[string]any{"source": 5, "text": strings.Repeat("*", g.r.IntN(20)), "isChecked": false, "id": g.r.IntN(g.id) + 1}
		}
		add(rrEvent{Type: 3, Data: data, Timestamp: ts})
	}
	return append(out, ']')
}
