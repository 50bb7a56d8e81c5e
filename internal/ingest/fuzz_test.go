package ingest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/veil-privacy/veil/internal/loadgen"
	"github.com/veil-privacy/veil/internal/scrub"
)

// FuzzReadBody: arbitrary bytes as a gzip or plain body never panic, never
// return more than the decoded limit, and never read more than the wire
// limit.
func FuzzReadBody(f *testing.F) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte("a"), 5000))
	zw.Close()
	f.Add(gz.Bytes(), true)
	f.Add([]byte(`{"event":"x"}`), false)
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, true)
	f.Fuzz(func(t *testing.T, body []byte, compressed bool) {
		r := httptest.NewRequest(http.MethodPost, "/v1/track", bytes.NewReader(body))
		if compressed {
			r.Header.Set("Content-Encoding", "gzip")
		}
		lim := BodyLimits{MaxCompressed: 256, MaxDecoded: 1024}
		out, err := readBody(r, lim, "Body")
		if err == nil && int64(len(out)) > lim.MaxDecoded {
			t.Fatalf("returned %d bytes over the %d limit", len(out), lim.MaxDecoded)
		}
		if err == nil && compressed && int64(len(body)) > lim.MaxCompressed+512 {
			t.Fatalf("accepted %d wire bytes over the %d limit", len(body), lim.MaxCompressed)
		}
	})
}

// FuzzSummarize: arbitrary bytes as rrweb events never panic in the
// summary scanner, and whatever it accepts is counted consistently.
func FuzzSummarize(f *testing.F) {
	f.Add([]byte(`[{"type":4,"timestamp":1,"data":{"href":"https://a.example/x?y"}},{"type":3,"timestamp":2,"data":{"source":1}}]`))
	f.Add([]byte(`[{"type":6,"timestamp":5,"data":{"plugin":"rrweb/console@1","payload":{"level":"error"}}}]`))
	f.Add([]byte(`[{"type":"2","timestamp":1e3}]`))
	f.Add([]byte(`[{"a":"\"]}"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Splitting an upload reads the same summary as scanning its
		// events array afterwards.
		var fused segmentSummary
		if ev, meta, err := splitReplayBody(b, summaryScan(b, &fused)); err == nil {
			if len(ev)+len(meta) > len(b) {
				t.Fatalf("split %d bytes into %d+%d", len(b), len(ev), len(meta))
			}
			var sep segmentSummary
			if len(ev) > 0 && ev[0] == '[' && scanEvents(ev, sep.add) == nil && !reflect.DeepEqual(fused, sep) {
				t.Fatalf("summary while splitting %+v, scanning after %+v", fused, sep)
			}
		}
		n := 0
		err := scanEvents(b, func(*rrwebEvent) error {
			n++
			return nil
		})
		if err == nil && n > len(b) {
			t.Fatalf("%d elements from %d bytes", n, len(b))
		}
	})
}

// FuzzBatchEntries: a damaged batch object never panics the reader.
func FuzzBatchEntries(f *testing.F) {
	f.Add(appendBatchEntry(appendBatchEntry(nil, "r1", []byte("sealed")), "r2", []byte("x")))
	f.Add([]byte("VEB1\x05abc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		eachBatchEntry(b, func(id string, sealed []byte) error {
			n += len(id) + len(sealed)
			return nil
		})
		if n > len(b) {
			t.Fatalf("entries larger than the object")
		}
	})
}

// FuzzReadReplay: on arbitrary upload bodies, reading the summary from
// the scrubber's walk agrees with the two-walk reference (scan, then
// scrub) on what is refused, what is stored and what is summarised.
func FuzzReadReplay(f *testing.F) {
	f.Add([]byte(`{"events":[{"type":4,"timestamp":1,"data":{"href":"https://a.example/u/a@b.example"}}],"meta":{"url":"x"}}`))
	f.Add([]byte(`[{"data":{"source":5,"id":7,"text":"hunter22"},"type":3,"timestamp":2},{"type":5,"timestamp":3,"data":{"tag":"t"}}]`))
	f.Add([]byte(`{"events":[],"events":[{"type":"2","timestamp":1e3}]}`))
	f.Add(loadgen.SDKBody(loadgen.SyntheticSegment(4<<10, 3)))
	sc := scrub.MustNew(DefaultScrubRules())
	h := New(Options{Scrubber: sc})
	f.Fuzz(func(t *testing.T, b []byte) {
		wantClean, want, wantUser, wantErr := twoWalkReadReplay(h, sc, b, "Firefox/1")
		gotClean, got, gotUser, gotErr := h.readReplay(sc, bytes.Clone(b), "Firefox/1")
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("error %v, two walks: %v", gotErr, wantErr)
		}
		if wantErr == nil && (!bytes.Equal(gotClean, wantClean) || gotUser != wantUser || !reflect.DeepEqual(got, want)) {
			t.Fatalf("one walk %+v, two walks %+v", got, want)
		}
	})
}
