package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/loadgen"
)

// TestConcurrentUploadsStoredIntact: request bodies are read into recycled
// buffers; replay uploads of different sizes and shapes and event batches
// sent at the same time must each be stored exactly as sent (the segments
// have nothing to redact), never mixed with another request's bytes.
func TestConcurrentUploadsStoredIntact(t *testing.T) {
	e := newEnv(t, nil)
	const senders, perSender = 6, 8
	var wg sync.WaitGroup
	errs := make(chan string, senders*perSender*2)
	want := make([][]json.RawMessage, senders) // events per session, in seq order
	for w := range senders {
		wg.Add(2)
		go func() { // replay uploads, one session per sender
			defer wg.Done()
			for seq := range perSender {
				plain := loadgen.SyntheticSegment((2+w*7+seq*5)<<10, uint64(w*100+seq))
				var evs []json.RawMessage
				if err := json.Unmarshal(plain, &evs); err != nil {
					errs <- err.Error()
					return
				}
				want[w] = append(want[w], evs...)
				body := plain
				if seq%2 == 0 {
					body = loadgen.SDKBody(plain)
				}
				r := e.do(req{path: fmt.Sprintf("/v1/replay?session=sess-conc-%04d&seq=%d", w, seq), body: string(body),
					gzip: seq%3 != 0, key: e.project.ServerKey})
				if r.status != 200 {
					errs <- fmt.Sprintf("replay %d/%d: %d %s", w, seq, r.status, r.body)
				}
			}
		}()
		go func() { // event batches alongside
			defer wg.Done()
			for n := range perSender {
				var b strings.Builder
				b.WriteString(`{"batch":[`)
				for i := range 20 {
					if i > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, `{"type":"track","event":"E","userId":"u","messageId":"conc-%d-%d-%d","properties":{"pad":%q}}`, w, n, i, strings.Repeat("p", 50*w))
				}
				b.WriteString(`]}`)
				if r := e.do(req{path: "/v1/batch", body: b.String(), gzip: n%2 == 0, key: e.project.ServerKey}); r.status != 200 {
					errs <- fmt.Sprintf("batch %d/%d: %d %s", w, n, r.status, r.body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Fatal(msg)
	}
	e.pack()
	for w := range senders {
		var out bytes.Buffer
		if n, err := ingestReader(e).Replay(context.Background(), e.project.ProjectID, fmt.Sprintf("sess-conc-%04d", w), &out); err != nil || n != perSender {
			t.Fatalf("session %d: %d segments, %v", w, n, err)
		}
		var got []json.RawMessage
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("session %d: export is not JSON: %v", w, err)
		}
		if len(got) != len(want[w]) {
			t.Fatalf("session %d: %d events stored, %d sent", w, len(got), len(want[w]))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[w][i]) {
				t.Fatalf("session %d event %d differs:\n got %.200s\nwant %.200s", w, i, got[i], want[w][i])
			}
		}
	}
	var msgs strings.Builder
	if _, err := ingestReader(e).Events(context.Background(), e.project.ProjectID, time.Time{}, time.Time{}, &msgs); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(msgs.String(), `"messageId":"conc-`); n != senders*perSender*20 {
		t.Fatalf("%d messages stored, %d sent", n, senders*perSender*20)
	}
}
