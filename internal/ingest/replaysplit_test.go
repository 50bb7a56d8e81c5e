package ingest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/loadgen"
	"github.com/veil-privacy/veil/internal/scrub"
)

// twoWalkReadReplay is readReplay as it was before the scrubber told the
// summary: the ingest scanner split the body and read the summary, then
// the scrubber walked the events again. It is the reference readReplay
// must agree with.
func twoWalkReadReplay(h *Handler, sc *scrub.Scrubber, body []byte, ua string) ([]byte, *segmentMeta, string, error) {
	var sum segmentSummary
	events, metaJSON, err := splitReplayBody(body, summaryScan(body, &sum))
	if err != nil {
		return nil, nil, "", veil.Errorf(veil.EINVALID, "split: %v", err)
	}
	var rb replayBody
	if len(metaJSON) > 0 {
		if err := json.Unmarshal(metaJSON, &rb.Meta); err != nil {
			return nil, nil, "", veil.Errorf(veil.EINVALID, "meta: %v", err)
		}
	}
	if len(events) == 0 || events[0] != '[' {
		return nil, nil, "", veil.Errorf(veil.EINVALID, "no events array")
	}
	clean, _, err := sc.RRWeb(events)
	if err != nil {
		return nil, nil, "", veil.Errorf(veil.EINVALID, "scrub: %v", err)
	}
	var meta *segmentMeta
	if sameBytes(clean, events) {
		meta, err = h.finishSummary(sc, &sum, rb.Meta.URL, ua)
	} else {
		meta, err = h.summarize(sc, clean, rb.Meta.URL, ua)
	}
	return clean, meta, rb.Meta.UserID, err
}

// TestReadReplayMatchesTwoWalks: the summary read from the scrubber's
// walk is the one the separate scan read, on clean segments, on segments
// with redactions (text, custom event tags, page URLs, console errors,
// password inputs whose type comes after their value), on keys in any
// order, repeated and escaped keys, and on bodies that are refused.
func TestReadReplayMatchesTwoWalks(t *testing.T) {
	ev := func(events ...string) string { return "[" + strings.Join(events, ",") + "]" }
	sdk := func(events string) string {
		return `{"events":` + events + `,"meta":{"url":"https://app.example/p/1?q","userId":"u-7"}}`
	}
	var cases []struct{ name, body string }
	add := func(name, body string) { cases = append(cases, struct{ name, body string }{name, body}) }
	for seed := uint64(1); seed <= 4; seed++ {
		seg := string(loadgen.SyntheticSegment(int(seed)*20<<10, seed))
		add("synthetic bare", seg)
		add("synthetic sdk", string(loadgen.SDKBody([]byte(seg))))
	}
	meta := `{"type":4,"timestamp":1700000000000,"data":{"href":"https://shop.example/account/jane.doe@example.com/orders?x=1","width":1280}}`
	custom := `{"type":5,"timestamp":1700000000100,"data":{"tag":"signup jane.doe@example.com","payload":{"plan":"pro"}}}`
	custom2 := `{"timestamp":1700000000150,"data":{"payload":{"a":[1,{"tag":"inner"}]},"tag":"checkout"},"type":5}`
	console := `{"type":6,"timestamp":1700000000200,"data":{"plugin":"rrweb/console@1","payload":{"level":"error","payload":["card 4111 1111 1111 1111 declined"],"trace":["at pay (app.js:1:2)"]}}}`
	text := `{"type":3,"timestamp":1700000000300,"data":{"source":0,"texts":[{"id":5,"value":"call +1 415 555 0100"}],"attributes":[],"removes":[],"adds":[]}}`
	password := `{"data":{"node":{"type":0,"id":1,"childNodes":[{"attributes":{"value":"hunter2","type":"password"},"childNodes":[],"id":7,"tagName":"input","type":2}]},"initialOffset":{"top":0,"left":0}},"timestamp":1700000000050,"type":2}`
	input := `{"data":{"source":5,"id":7,"text":"hunter22","isChecked":false},"type":3,"timestamp":1700000000400}`
	mouse := `{"type":3,"timestamp":1700000000500,"data":{"source":1,"positions":[{"x":1,"y":2,"id":3,"timeOffset":0}]}}`
	add("redactions", sdk(ev(meta, password, custom, custom2, console, text, input, mouse)))
	add("redactions bare", ev(password, input, console, meta))
	add("clean mix", sdk(ev(`{"type":4,"timestamp":1700000000000,"data":{"href":"https://shop.example/cart","width":1}}`, custom2, mouse,
		`{"type":6,"timestamp":1700000000600,"data":{"plugin":"rrweb/console@1","payload":{"level":"warn","payload":["x"]}}}`)))
	add("meta first", `{"meta":{"url":"https://a.example/x"},"events":`+ev(mouse, custom2)+`}`)
	add("repeated events key", `{"events":`+ev(mouse)+`,"events":`+ev(custom2, console)+`}`)
	add("repeated type and timestamp", ev(`{"type":3,"type":4,"timestamp":5,"timestamp":1700000000000,"data":{"href":"https://a.example/u/1"}}`))
	add("escaped keys", ev(`{"t\u0079pe":4,"type":3,"timestamp":1700000000000,"d\u0061ta":{"source":1}}`))
	add("float timestamp", ev(`{"type":3,"timestamp":1.7000000000005e12,"data":{"source":2}}`))
	add("spaces", " {\n \"events\" : [ { \"type\" : 3 , \"timestamp\" : 7 , \"data\" : { } } ] , \"meta\" : { } } ")
	add("zero timestamp", ev(mouse, `{"type":3,"timestamp":0,"data":{}}`))
	add("no events", `{"events":[]}`)
	add("string type", ev(`{"type":"3","timestamp":1}`))
	add("non-object event", ev(mouse, `7`))
	add("bad meta", sdk(ev(mouse))[:len(sdk(ev(mouse)))-2]+`,}}`)
	add("events not an array", `{"events":{"a":1}}`)
	add("invalid JSON in events", `{"events":[{"type":3,"timestamp":1,"data":{"a":tru}}]}`)
	add("trailing bytes", ev(mouse)+` x`)
	add("unterminated", `{"events":[{"type":3`)
	add("custom tag not a string", ev(`{"type":5,"timestamp":1,"data":{"tag":7}}`))
	add("meta href not a string", ev(`{"type":4,"timestamp":1,"data":{"href":7}}`))

	scrubbers := map[string]*scrub.Scrubber{
		"ingest default": scrub.MustNew(DefaultScrubRules()),
		"no rules":       scrub.MustNew(scrub.Rules{}), // events may be walked twice
	}
	h := New(Options{Scrubber: scrubbers["ingest default"]})
	const ua = "Mozilla/5.0 (X11) Chrome/131.0"
	redacted := 0
	for sname, sc := range scrubbers {
		for _, c := range cases {
			t.Run(sname+"/"+c.name, func(t *testing.T) {
				body := []byte(c.body)
				wantClean, want, wantUser, wantErr := twoWalkReadReplay(h, sc, body, ua)
				gotClean, got, gotUser, gotErr := h.readReplay(sc, bytes.Clone(body), ua)
				if (gotErr == nil) != (wantErr == nil) || veil.ErrorCode(gotErr) != veil.ErrorCode(wantErr) {
					t.Fatalf("error %v, two walks: %v", gotErr, wantErr)
				}
				if wantErr != nil {
					return
				}
				if !bytes.Equal(gotClean, wantClean) {
					t.Errorf("scrubbed events differ:\n got %s\nwant %s", gotClean, wantClean)
				}
				if !bytes.Equal(wantClean, []byte(c.body)) && !bytes.Contains(body, wantClean) {
					redacted++
				}
				if gotUser != wantUser {
					t.Errorf("user id %q, want %q", gotUser, wantUser)
				}
				if diff := cmp.Diff(want, got, cmp.AllowUnexported(segmentMeta{})); diff != "" {
					t.Errorf("summary differs from the two-walk one (-want +got):\n%s", diff)
				}
			})
		}
	}
	if redacted < 4 {
		t.Errorf("only %d cases had redactions; the test should cover the re-read summary", redacted)
	}
}
