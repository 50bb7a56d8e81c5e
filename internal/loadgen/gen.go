package loadgen

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// newEventGen returns a generator of Segment batches shaped like
// analytics-node's: batch events of about size bytes, each with a unique
// messageId (duplicates would be dropped by the server, not stored). A
// batch of one is sent as a single call to /v1/track, the way a server
// without a client library (curl, a webhook relay) sends each event.
func newEventGen(batch, size int) func(int, int64) ([]byte, string, bool, int, int) {
	pad := strings.Repeat("x", max(0, size-460))
	return func(worker int, n int64) ([]byte, string, bool, int, int) {
		var b bytes.Buffer
		b.Grow(batch*(size+16) + 64)
		ts := time.Now().UTC().Format(time.RFC3339Nano)
		if batch == 1 {
			writeTrack(&b, worker, n, 0, 1, ts, pad)
			return b.Bytes(), "/v1/track", false, 1, b.Len()
		}
		b.WriteString(`{"batch":[`)
		for i := 0; i < batch; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			writeTrack(&b, worker, n, i, batch, ts, pad)
		}
		b.WriteString(`],"sentAt":"`)
		b.WriteString(ts)
		b.WriteString(`"}`)
		return b.Bytes(), "/v1/batch", false, batch, b.Len()
	}
}

// writeTrack writes event i of request n of a worker: one track message.
func writeTrack(b *bytes.Buffer, worker int, n int64, i, batch int, ts, pad string) {
	b.WriteString(`{"type":"track","event":"Product Viewed","messageId":"bench-`)
	b.WriteString(strconv.Itoa(worker))
	b.WriteByte('-')
	b.WriteString(strconv.FormatInt(n, 10))
	b.WriteByte('-')
	b.WriteString(strconv.Itoa(i))
	b.WriteString(`","anonymousId":"anon-`)
	b.WriteString(strconv.FormatInt((n*int64(batch)+int64(i))%5000, 10))
	b.WriteString(`","timestamp":"`)
	b.WriteString(ts)
	b.WriteString(`","properties":{"product_id":"sku-1042","category":"Games","price":18.99,"currency":"USD","position":3,"list":"search results","pad":"`)
	b.WriteString(pad)
	b.WriteString(`"},"context":{"library":{"name":"veil-bench","version":"1.0.0"},"page":{"path":"/products/1042","title":"Catalog"},"locale":"en-US"},"integrations":{}}`)
}

// newReplayGen returns a generator of gzip-compressed rrweb segments of
// about kb KB of JSON: a DOM snapshot followed by mutations, mouse moves
// and inputs, the mix a recorded app page produces. replayVariants
// different segments (other nodes, texts, classes, positions and times)
// are built and compressed once and sent in turn, so that no cache in the
// server sees the same upload over and over. Requests go round a pool of
// sessions active at once, as a site's visitors do (each SDK flushes a
// segment every few seconds), and each session lasts segmentsPerSession
// segments (five minutes at one flush per five seconds); sessions start
// staggered, so about one request in segmentsPerSession opens a new
// session.
func newReplayGen(kb, sessions int) func(int, int64) ([]byte, string, bool, int, int) {
	type variant struct {
		gz      []byte
		decoded int
	}
	variants := make([]variant, replayVariants)
	for i := range variants {
		plain := SyntheticSegment(kb<<10, uint64(i+1))
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
		zw.Write(SDKBody(plain))
		zw.Close()
		variants[i] = variant{gz.Bytes(), len(plain)}
	}
	run := rand.Uint64()
	var next atomic.Int64
	return func(int, int64) ([]byte, string, bool, int, int) {
		c := next.Add(1) - 1
		slot := c % int64(sessions)
		k := c/int64(sessions) + slot // staggered start
		path := "/v1/replay?session=bench-" + strconv.FormatUint(run, 16) + "-" + strconv.FormatInt(slot, 10) + "-" +
			strconv.FormatInt(k/segmentsPerSession, 10) + "&seq=" + strconv.FormatInt(k%segmentsPerSession, 10)
		v := variants[c%replayVariants]
		return v.gz, path, true, 0, v.decoded
	}
}

// replayVariants is how many different segments replay mode sends.
const replayVariants = 32

// SDKBody wraps rrweb events the way the browser SDK uploads them:
// {"events":[…],"meta":{"url":…,"sdk":…}}.
func SDKBody(events []byte) []byte {
	b := make([]byte, 0, len(events)+96)
	b = append(b, `{"events":`...)
	b = append(b, events...)
	return append(b, `,"meta":{"url":"https://app.example.com/dashboard?tab=1","sdk":"veil-bench"}}`...)
}

// segmentsPerSession is how many segments a generated session sends.
const segmentsPerSession = 60

// SyntheticSegment returns about size bytes of rrweb events as JSON: a
// full snapshot of nested elements and text, then incremental events.
func SyntheticSegment(size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 99))
	words := []string{"account", "settings", "order", "shipping", "billing", "profile", "search", "results", "cart",
		"checkout", "product", "details", "reviews", "help", "contact", "news", "dashboard", "report", "team", "invite"}
	ts := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).UnixMilli()
	id := 1
	var node func(depth int) map[string]any
	node = func(depth int) map[string]any {
		id++
		if depth > 5 || rng.IntN(4) == 0 {
			n := 2 + rng.IntN(6)
			var sb strings.Builder
			for i := 0; i < n; i++ {
				sb.WriteString(strings.Repeat("*", len(words[rng.IntN(len(words))])))
				sb.WriteByte(' ')
			}
			return map[string]any{"type": 3, "id": id, "textContent": sb.String()}
		}
		tags := []string{"div", "span", "li", "a", "button", "section", "p", "td"}
		kids := []any{}
		for i := 0; i < 1+rng.IntN(4); i++ {
			kids = append(kids, node(depth+1))
		}
		return map[string]any{"type": 2, "id": id, "tagName": tags[rng.IntN(len(tags))],
			"attributes": map[string]any{"class": words[rng.IntN(len(words))] + "-" + words[rng.IntN(len(words))]}, "childNodes": kids}
	}
	var events []any
	events = append(events, map[string]any{"type": 4, "timestamp": ts, "data": map[string]any{"href": "https://app.example.com/dashboard", "width": 1280, "height": 800}})
	root := map[string]any{"type": 0, "id": 1, "childNodes": []any{}}
	body := root["childNodes"].([]any)
	for i := 0; i < max(1, size/6000); i++ {
		body = append(body, node(0))
	}
	root["childNodes"] = body
	events = append(events, map[string]any{"type": 2, "timestamp": ts + 5, "data": map[string]any{"node": root, "initialOffset": map[string]any{"top": 0, "left": 0}}})
	out, _ := json.Marshal(events)
	for len(out) < size {
		ts += int64(20 + rng.IntN(200))
		var ev any
		switch rng.IntN(3) {
		case 0:
			ev = map[string]any{"type": 3, "timestamp": ts, "data": map[string]any{"source": 1, "positions": []any{map[string]any{"x": rng.IntN(1280), "y": rng.IntN(800), "id": rng.IntN(id) + 1, "timeOffset": -rng.IntN(50)}}}}
		case 1:
			ev = map[string]any{"type": 3, "timestamp": ts, "data": map[string]any{"source": 5, "text": strings.Repeat("*", 3+rng.IntN(10)), "isChecked": false, "id": rng.IntN(id) + 1}}
		default:
			ev = map[string]any{"type": 3, "timestamp": ts, "data": map[string]any{"source": 0, "texts": []any{map[string]any{"id": rng.IntN(id) + 1, "value": strings.Repeat("*", 5+rng.IntN(20))}}, "attributes": []any{}, "removes": []any{}, "adds": []any{}}}
		}
		events = append(events, ev)
		if len(events)%200 == 0 {
			out, _ = json.Marshal(events)
		}
	}
	out, _ = json.Marshal(events)
	return out
}
