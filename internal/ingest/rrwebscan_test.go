package ingest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/veil-privacy/veil/internal/loadgen"
)

// TestScanEventsMatchesDecoder: the hand-written scanner reads the same
// summary fields as encoding/json on valid rrweb JSON, including strings
// with escaped quotes and brackets, long strings (the vectorised path),
// non-ASCII text and float timestamps.
func TestScanEventsMatchesDecoder(t *testing.T) {
	long := strings.Repeat(`ab\"c]}{[`, 40)
	tests := []struct {
		name string
		json string
	}{
		{"synthetic-1", string(loadgen.SyntheticSegment(32<<10, 1))},
		{"synthetic-2", string(loadgen.SyntheticSegment(200<<10, 2))},
		{"empty", `[]`},
		{"spaces", " [ { \"type\" : 3 , \"timestamp\" : 7 , \"data\" : { } } ] "},
		{"escapes", `[{"type":2,"data":{"t":"a\"]}\\","u":"\\\\"},"timestamp":5},{"timestamp":6,"type":3,"data":[1,"]",{"x":"}"}]}]`},
		{"long strings", `[{"type":3,"data":{"text":"` + long + `","k":"` + strings.Repeat("x", 100) + `\\"},"timestamp":9}]`},
		{"unicode", `[{"type":3,"data":{"text":"héllo ✓ \u00e9"},"timestamp":10}]`},
		{"float timestamp", `[{"type":3,"timestamp":1.7e12,"data":{}},{"type":3,"timestamp":1700000000000.5}]`},
		{"meta and console", `[{"type":4,"data":{"href":"https://a.example/p?q=1","width":1},"timestamp":1},` +
			`{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"level":"error","trace":["x"]}},"timestamp":2}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw []struct {
				Type      int
				Timestamp float64
				Data      json.RawMessage
			}
			if err := json.Unmarshal([]byte(tt.json), &raw); err != nil {
				t.Fatal(err)
			}
			var want []rrwebEvent
			for _, r := range raw {
				e := rrwebEvent{Type: r.Type, Timestamp: int64(r.Timestamp)}
				if r.Type == 4 || r.Type == 6 { // the scanner decodes data only for Meta and plugin events
					if err := json.Unmarshal(r.Data, &e.Data); err != nil {
						t.Fatal(err)
					}
				}
				want = append(want, e)
			}
			var got []rrwebEvent
			if err := scanEvents([]byte(tt.json), func(e *rrwebEvent) error {
				got = append(got, *e)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 && len(got) == 0 {
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("scan differs from encoding/json (-want +got):\n%s", diff)
			}
		})
	}
}

// TestScanEventsRejects: malformed arrays and events are errors.
func TestScanEventsRejects(t *testing.T) {
	for _, in := range []string{
		``, `{}`, `[`, `[1]`, `["x"]`, `[{"type":3,"timestamp":1}`, `[{"type":"3","timestamp":1}]`,
		`[{"type":3,"timestamp":"x"}]`, `[{"type":3,"data":{"a":"unterminated}]`, `[{"type":3,"data":{"a":[1,2}]`,
		`[{"type":3} {"type":4}]`,
	} {
		if err := scanEvents([]byte(in), func(*rrwebEvent) error { return nil }); err == nil {
			t.Errorf("scanEvents(%q) accepted", in)
		}
	}
}

// TestSplitReplayBody: the events array and meta object are found in both
// accepted shapes; anything else is refused.
func TestSplitReplayBody(t *testing.T) {
	tests := []struct {
		in, events, meta string
		ok               bool
	}{
		{in: ` [{"type":3}] `, events: `[{"type":3}]`, ok: true},
		{in: `{"events":[{"type":3,"data":{"s":"]}"}}],"meta":{"url":"https://a.example/p"}}`, events: `[{"type":3,"data":{"s":"]}"}}]`, meta: `{"url":"https://a.example/p"}`, ok: true},
		{in: `{"meta":{"userId":"u"},"sdk":"1.0","events":[]}`, events: `[]`, meta: `{"userId":"u"}`, ok: true},
		{in: `{"events":[1],"events":[2]}`, events: `[2]`, ok: true}, // last wins, as encoding/json
		{in: `{"meta":{}}`, meta: `{}`, ok: true},       // no events: the handler refuses it
		{in: `{"events":"x"}`, events: `"x"`, ok: true}, // not an array: the handler refuses it
		{in: `[1] x`}, {in: `{"events":[]} {}`}, {in: `{"events":[}`}, {in: `"events"`}, {in: ``}, {in: `{"events" []}`},
	}
	for _, tt := range tests {
		ev, meta, err := splitReplayBody([]byte(tt.in), nil)
		if (err == nil) != tt.ok || string(ev) != tt.events || string(meta) != tt.meta {
			t.Errorf("splitReplayBody(%q) = %q, %q, %v; want %q, %q, ok=%v", tt.in, ev, meta, err, tt.events, tt.meta, tt.ok)
		}
	}
}

// TestSplitReplayBodySummary: the summary read while splitting an upload is
// the summary of its (last) events array.
func TestSplitReplayBodySummary(t *testing.T) {
	events := `[{"type":4,"data":{"href":"https://a.example/p"},"timestamp":10},{"type":5,"data":{"tag":"signup"},"timestamp":12},` +
		`{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"level":"error"}},"timestamp":15}]`
	for _, body := range []string{
		events,
		`{"events":` + events + `,"meta":{"url":""}}`,
		`{"events":[{"type":3,"timestamp":1},{"type":3,"timestamp":99}],"meta":{},"events":` + events + `}`,
	} {
		var fused, sep segmentSummary
		ev, _, err := splitReplayBody([]byte(body), summaryScan([]byte(body), &fused))
		if err != nil {
			t.Fatalf("split %s: %v", body, err)
		}
		if err := scanEvents(ev, sep.add); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sep, fused, cmp.AllowUnexported(segmentSummary{}, segmentMeta{})); diff != "" {
			t.Errorf("%s: summary while splitting differs (-after +while):\n%s", body, diff)
		}
		if m := fused.m; m.Events != 3 || m.FirstTS != 10 || m.LastTS != 15 || m.Pages != 1 || m.Errors != 1 ||
			fused.href != "https://a.example/p" || len(m.tagNames) != 1 {
			t.Errorf("%s: summary %+v", body, fused)
		}
	}
}

// summaryScan returns an eventsAt for splitReplayBody that reads each
// events array's summary into s with scanEventsAt (starting over for a
// repeated events key): the two-walk path the request path replaced
// (scrubSplit), kept for the tests and benchmarks that compare with it.
func summaryScan(b []byte, s *segmentSummary) func(int) (int, error) {
	return func(i int) (int, error) {
		s.reset()
		return scanEventsAt(b, i, s.add)
	}
}
