package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/loadgen"
	"github.com/veil-privacy/veil/internal/scrub"
)

// BenchmarkReplayStages measures each CPU stage of a replay upload on one
// core, on the load generator's upload (~36 KB of rrweb JSON in the SDK's
// {"events":[…],"meta":{…}}, ~4 KB gzip): bounded gunzip, splitting the
// body and scrubbing its events in one walk that also reads the summary
// (split-scrub; scrub alone for comparison), the summary scan that
// redacted segments need, sealing the segment and its meta, and all of
// them in a row (what one request costs before the log's write). MB/s are
// of rrweb JSON.
func BenchmarkReplayStages(b *testing.B) {
	plain := loadgen.SyntheticSegment(32<<10, 1)
	upload := loadgen.SDKBody(plain) // what the SDK posts: {"events":[…],"meta":{…}}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(upload)
	zw.Close()
	h := New(Options{Scrubber: scrub.MustNew(DefaultScrubRules()), ReplayScrubber: scrub.MustNew(DefaultReplayScrubRules())})
	dek, sk := keyring.NewDataKey(), keyring.NewDataKey()
	lim := BodyLimits{MaxCompressed: 4 << 20, MaxDecoded: 16 << 20}
	request := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "/v1/replay", bytes.NewReader(gz.Bytes()))
		r.Header.Set("Content-Encoding", "gzip")
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	clean, _, err := h.opts.ReplayScrubber.RRWeb(plain)
	if err != nil {
		b.Fatal(err)
	}
	meta, err := h.summarize(h.opts.ReplayScrubber, clean, "", "Mozilla/5.0 Chrome/131.0")
	if err != nil {
		b.Fatal(err)
	}
	mj, _ := json.Marshal(meta)
	aad := SegmentAAD("org", "prj", "sess-0001", 7)
	maad := segmentMetaAAD("org", "prj", "0123456789abcdef01234567")

	stages := []struct {
		name string
		fn   func(b *testing.B)
	}{
		{"gunzip", func(b *testing.B) {
			body, err := readBody(request(), lim, "Replay segment")
			if err != nil {
				b.Fatal(err)
			}
			releaseBody(body)
		}},
		{"split-scrub", func(b *testing.B) { // with the summary read on the way
			sp := scrubSplit(h.opts.ReplayScrubber, upload)
			if sp.scrubErr != nil || sp.splitErr != nil || sp.eventErr != nil || !sameBytes(sp.clean, sp.events) {
				b.Fatal("split", sp.scrubErr, sp.splitErr, sp.eventErr)
			}
			var rb replayBody
			if err := json.Unmarshal(sp.meta, &rb.Meta); err != nil {
				b.Fatal(err)
			}
		}},
		{"split-scan", func(b *testing.B) { // the ingest scanner alone (before: the first of two walks)
			var sum segmentSummary
			ev, _, err := splitReplayBody(upload, summaryScan(upload, &sum))
			if err != nil || len(ev) != len(plain) {
				b.Fatal(err)
			}
		}},
		{"scrub", func(b *testing.B) {
			if _, _, err := h.opts.ReplayScrubber.RRWeb(plain); err != nil {
				b.Fatal(err)
			}
		}},
		{"summary", func(b *testing.B) {
			if _, err := h.summarize(h.opts.ReplayScrubber, clean, "", "Mozilla/5.0 Chrome/131.0"); err != nil {
				b.Fatal(err)
			}
		}},
		{"seal-segment", func(b *testing.B) { // S2, the default
			if _, err := sk.SealS2(clean, aad); err != nil {
				b.Fatal(err)
			}
		}},
		{"seal-segment-zstd", func(b *testing.B) { // --segment-codec zstd
			if _, err := sk.SealFast(clean, aad); err != nil {
				b.Fatal(err)
			}
		}},
		{"seal-meta", func(b *testing.B) {
			if _, err := dek.SealS2(mj, maad); err != nil {
				b.Fatal(err)
			}
		}},
		{"all", func(b *testing.B) {
			body, err := readBody(request(), lim, "Replay segment")
			if err != nil {
				b.Fatal(err)
			}
			sp := scrubSplit(h.opts.ReplayScrubber, body)
			if sp.scrubErr != nil || sp.splitErr != nil || sp.eventErr != nil {
				b.Fatal("split", sp.scrubErr, sp.splitErr, sp.eventErr)
			}
			var rb replayBody
			if err := json.Unmarshal(sp.meta, &rb.Meta); err != nil {
				b.Fatal(err)
			}
			c := sp.clean
			if !sameBytes(c, sp.events) {
				b.Fatal("the benchmark's segment had redactions: the summary would be read again")
			}
			m, err := h.finishSummary(h.opts.Scrubber, &sp.sum, rb.Meta.URL, "Mozilla/5.0 Chrome/131.0")
			if err != nil {
				b.Fatal(err)
			}
			rec := &record{kind: kindSegment, id: "0123456789abcdef01234567", orgID: "org", projectID: "prj", sessionID: "sess-0001", seq: 7}
			if rec.body, err = sk.SealS2(c, aad); err != nil {
				b.Fatal(err)
			}
			mj, _ = json.Marshal(m)
			if rec.meta, err = dek.SealS2(mj, maad); err != nil {
				b.Fatal(err)
			}
			_ = rec.encode()
			releaseBody(body)
		}},
	}
	for _, st := range stages {
		b.Run(st.name, func(b *testing.B) {
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			for b.Loop() {
				st.fn(b)
			}
		})
	}
}
