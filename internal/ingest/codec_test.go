package ingest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/scrub"
)

// TestReplaySegmentCodecs: segments sealed with zstd (ZstdSegments, as
// before) and with S2 (the default) sit side by side in one session and
// read back the same; the version byte of each stored object says which.
func TestReplaySegmentCodecs(t *testing.T) {
	e := newEnv(t, func(o *ingest.Options) { o.ZstdSegments = true })
	const sid = "sess-codecs-0001"
	body := func(seq int) string {
		return fmt.Sprintf(`{"events":[{"type":4,"timestamp":%d,"data":{"href":"https://shop.example.com/a","width":800,"height":600}},`+
			`{"type":3,"timestamp":%d,"data":{"source":2,"type":2,"id":5,"x":1,"y":2}}]}`, 1_700_000_000_000+seq*1000, 1_700_000_000_100+seq*1000)
	}
	send := func(seq int) {
		t.Helper()
		r := e.do(req{path: fmt.Sprintf("/v1/replay?session=%s&seq=%d", sid, seq), body: body(seq), gzip: true, key: e.project.ServerKey})
		if r.status != 200 {
			t.Fatalf("replay seq %d: %d %s", seq, r.status, r.body)
		}
	}
	send(0) // zstd
	// The same storage behind a handler with the default codec.
	h := ingest.New(ingest.Options{Store: e.db, Master: e.master, Log: e.log, Blobs: e.blobs,
		Scrubber: scrub.MustNew(ingest.DefaultScrubRules()), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	mux := http.NewServeMux()
	h.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	send(1) // S2
	e.pack()

	ctx := context.Background()
	segs, err := e.db.ListSegments(ctx, e.project.ProjectID, sid)
	if err != nil || len(segs) != 2 {
		t.Fatalf("segments: %d %v", len(segs), err)
	}
	for i, want := range []byte{0x01, 0x02} {
		sealed, err := e.blobs.GetRange(ctx, segs[i].BlobKey, segs[i].Offset, segs[i].Length)
		if err != nil {
			t.Fatal(err)
		}
		if sealed[0] != want {
			t.Errorf("segment %d stored with format 0x%02x, want 0x%02x", i, sealed[0], want)
		}
	}
	var out strings.Builder
	n, err := ingestReader(e).Replay(ctx, e.project.ProjectID, sid, &out)
	if err != nil || n != 2 {
		t.Fatalf("replay export: %d %v", n, err)
	}
	if got := strings.Count(out.String(), `"timestamp":`); got != 4 {
		t.Fatalf("export has %d events, want 4: %s", got, out.String())
	}
}
