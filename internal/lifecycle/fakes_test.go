package lifecycle

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFakes(t *testing.T) {
	f := newFaker()
	f.remember("Zelda Quartermaine")
	tests := []struct {
		name, in string
		fn       func(string) string
		check    func(out string) bool
	}{
		{"mask keeps length and spaces", "Héllo  wörld\n", mask, func(o string) bool { return o == "*****  *****\n" }},
		{"email", "Zelda@Example.com", f.String, func(o string) bool {
			return strings.HasSuffix(o, "@example.invalid") && o == f.Email("zelda@example.com")
		}},
		{"ipv4", "203.0.113.77", f.String, func(o string) bool { return strings.HasPrefix(o, "10.") }},
		{"ipv6", "2001:db8::1", f.String, func(o string) bool { return strings.HasPrefix(o, "fd00::") }},
		{"url keeps routes, fakes ids and known names", "https://shop.example.com/users/zelda/orders/12345?q=x#frag", func(s string) string { return f.URL(s, mask) },
			func(o string) bool {
				return o == "https://shop.example.com/users/%2A%2A%2A%2A%2A/orders/%2A%2A%2A%2A%2A?q=%2A#****"
			}},
		{"text is consistent", "some note", f.String, func(o string) bool { return o == f.String("some note") && o != "some note" }},
		{"id", "canary-1", f.ID, func(o string) bool { return strings.HasPrefix(o, "u-") && o != f.ID("canary-2") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out := tt.fn(tt.in); !tt.check(out) {
				t.Fatalf("%q → %q", tt.in, out)
			}
		})
	}
	// Another copy (another key) gives other fakes.
	if newFaker().ID("canary-1") == f.ID("canary-1") {
		t.Fatal("two copies share fakes")
	}
}

func TestEventFakes(t *testing.T) {
	f := newFaker()
	m, err := decodeMessage([]byte(`{"type":"track","event":"Bought","userId":"u1","anonymousId":"a1","messageId":"m1",
		"properties":{"note":"secret note","n":3,"tags":["alpha"]},"context":{"ip":"1.2.3.4","veil":{"sessionId":"s1"},"traits":{"email":"x@y.example"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	f.Event(m)
	js, _ := json.Marshal(m)
	s := string(js)
	for _, gone := range []string{"u1", "a1", "secret note", "alpha", "1.2.3.4", "x@y.example"} {
		if strings.Contains(s, `"`+gone+`"`) {
			t.Errorf("%q kept: %s", gone, s)
		}
	}
	for _, kept := range []string{`"event":"Bought"`, `"messageId":"m1"`, `"sessionId":"s1"`, `"n":3`} {
		if !strings.Contains(s, kept) {
			t.Errorf("%s lost: %s", kept, s)
		}
	}
}

// FuzzReplayMask checks that masking never fails on valid JSON, keeps the
// number of events, and never lets a text node through.
func FuzzReplayMask(f *testing.F) {
	f.Add([]byte(`[{"type":2,"data":{"node":{"type":3,"textContent":"secret"}}}]`))
	f.Add([]byte(`[{"type":3,"data":{"source":0,"attributes":[{"id":1,"attributes":{"title":"secret","style":{"color":"red"}}}]}}]`))
	f.Add([]byte(`[{"type":4,"data":{"href":"https://a.example/p/secret?x=secret#secret"}}]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var events []any
		if json.Unmarshal(in, &events) != nil {
			return
		}
		out, err := newFaker().Replay(in)
		if err != nil {
			t.Fatalf("mask %s: %v", in, err)
		}
		var got []any
		if err := json.Unmarshal(out, &got); err != nil || len(got) != len(events) {
			t.Fatalf("masked output %s: %v", out, err)
		}
		if strings.Contains(string(out), "secret") && strings.Contains(string(in), `"textContent":"secret"`) &&
			!strings.Contains(string(in), "isStyle") && !strings.Contains(string(in), "tagName") {
			t.Fatalf("text kept: %s", out)
		}
	})
}

func TestReplayMaskRules(t *testing.T) {
	tests := []struct {
		name, in string
		keep     []string
	}{
		{"text node", `[{"type":2,"data":{"node":{"type":3,"id":1,"textContent":"secret words"}}}]`, []string{`"textContent":"****** *****"`}},
		{"css kept", `[{"type":2,"data":{"node":{"type":2,"tagName":"style","childNodes":[{"type":3,"textContent":"p{color:red}"}]}}}]`, []string{"p{color:red}"}},
		{"doctype kept", `[{"type":2,"data":{"node":{"type":1,"name":"html","publicId":"","systemId":""}}}]`, []string{`"name":"html"`}},
		{"doctype-shaped payload masked", `[{"type":5,"data":{"tag":"t","payload":{"type":1,"name":"secret"}}}]`, []string{`"tag":"t"`}},
		{"attributes", `[{"type":2,"data":{"node":{"type":2,"tagName":"a","attributes":{"class":"btn","title":"secret","href":"https://x.example/a/secret9?k=secret","rr_dataURL":"data:secret"}}}}]`,
			[]string{`"class":"btn"`, `"tagName":"a"`, "https://x.example/a/"}},
		{"input and console", `[{"type":3,"data":{"source":5,"text":"secret"}},{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"level":"warn","payload":["secret"]}}}]`,
			[]string{`"level":"warn"`, `"plugin":"rrweb/console@1"`}},
		{"stylesheet rule kept", `[{"type":3,"data":{"source":8,"adds":[{"rule":"a{color:red}","index":0}]}}]`, []string{"a{color:red}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := newFaker().Replay([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), "secret") {
				t.Fatalf("secret kept: %s", out)
			}
			for _, k := range tt.keep {
				if !strings.Contains(string(out), k) {
					t.Fatalf("%s lost: %s", k, out)
				}
			}
		})
	}
}
