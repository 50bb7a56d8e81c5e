package events_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/events"
)

var fuzzEndpoints = []string{"batch", "track", "identify", "page", "screen", "group", "alias", "import"}

// FuzzParse: Parse never panics; errors are client errors; on success every
// stored message is a valid JSON object within the size limit, agrees with
// the Message fields and follows the per-type rules.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(b, uint8(0), false)
	}
	f.Add(nodeBatch(2), uint8(0), true)
	f.Add([]byte(nodeTrack(1)), uint8(1), false)
	f.Add([]byte(`{"userId":1,"traits":{"a":[[[[1]]]]},"timestamp":"2024-05-01T10:00:00+02:00","sentAt":"2024-05-01"}`), uint8(2), true)
	f.Add([]byte(`{"anonymousId":"a","name":"\u00e9"}`), uint8(3), false)
	f.Add([]byte(`{"batch":[{"type":"group","userId":"u","groupId":7,"context":null}],"context":{"x":1},"integrations":{"a":true},"writeKey":"k"}`), uint8(0), true)
	f.Add([]byte(`{"userId":"u","previousId":"p","writeKey":"k","messageId":""}`), uint8(6), false)
	f.Fuzz(func(t *testing.T, body []byte, ep uint8, small bool) {
		endpoint := fuzzEndpoints[int(ep)%len(fuzzEndpoints)]
		lim := events.DefaultLimits()
		if small {
			lim = events.Limits{MaxMessage: 300, MaxBatch: 2000, MaxDepth: 6, MaxStringLen: 100, MaxBatchMessages: 5}
		}
		r, err := events.Parse(body, endpoint, recv, lim)
		if err != nil {
			code, msg := veil.ErrorCode(err), veil.ErrorMessage(err)
			if code != veil.EINVALID && code != veil.ETOOLARGE || msg == "" || len(msg) > 200 || !utf8.ValidString(msg) {
				t.Fatalf("error %q %q", code, msg)
			}
			return
		}
		if n := len(r.Messages); n > lim.MaxBatchMessages || endpoint != "batch" && endpoint != "import" && n != 1 {
			t.Fatalf("%d messages from /v1/%s", n, endpoint)
		}
		for i, m := range r.Messages {
			checkMessage(t, i, m, lim)
		}
	})
}

func checkMessage(t *testing.T, i int, m events.Message, lim events.Limits) {
	if len(m.JSON) > lim.MaxMessage+events.Overhead || !json.Valid(m.JSON) || !utf8.Valid(m.JSON) {
		t.Fatalf("message %d: %d bytes, invalid: %q", i, len(m.JSON), m.JSON)
	}
	// Top-level names are unique, and the server's fields are right.
	dec := json.NewDecoder(bytes.NewReader(m.JSON))
	dec.UseNumber()
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		t.Fatalf("message %d is not an object", i)
	}
	v := map[string]any{}
	for dec.More() {
		k, _ := dec.Token()
		var val any
		if err := dec.Decode(&val); err != nil {
			t.Fatal(err)
		}
		if _, dup := v[k.(string)]; dup {
			t.Fatalf("message %d: %q twice: %s", i, k, m.JSON)
		}
		v[k.(string)] = val
	}
	if v["type"] != m.Type || v["messageId"] != m.MessageID || m.MessageID == "" {
		t.Fatalf("message %d: type/messageId %v/%v vs %q/%q", i, v["type"], v["messageId"], m.Type, m.MessageID)
	}
	if _, ok := v["writeKey"]; ok {
		t.Fatalf("message %d: writeKey stored", i)
	}
	for name, want := range map[string]time.Time{"timestamp": m.Timestamp, "receivedAt": m.ReceivedAt} {
		s, _ := v[name].(string)
		got, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !got.Equal(want) {
			t.Fatalf("message %d: %s %q vs %v", i, name, s, want)
		}
	}
	ok := m.UserID != "" || m.AnonymousID != ""
	switch m.Type {
	case events.TypeTrack:
		ok = ok && m.Event != ""
	case events.TypeGroup:
		ok = ok && m.GroupID != ""
	case events.TypeAlias:
		ok = m.UserID != "" && m.PreviousID != ""
	case events.TypeIdentify, events.TypePage, events.TypeScreen:
	default:
		ok = false
	}
	if !ok {
		t.Fatalf("message %d breaks the %q rules: %+v", i, m.Type, m)
	}
}
