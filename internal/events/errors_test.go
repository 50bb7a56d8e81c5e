package events_test

import (
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/events"
)

// secret appears in payloads below; no error message may repeat it.
const secret = "SECRETVALUE"

func TestParse_Invalid(t *testing.T) {
	for _, tt := range []struct {
		name, endpoint, body string
		code, msg            string // msg: the exact error message
	}{
		{"unknown endpoint", "purge", `{}`, veil.EINVALID, "unknown endpoint"},
		{"empty body", "track", " \n", veil.EINVALID, "body is empty"},
		{"not an object", "track", `["SECRETVALUE"]`, veil.EINVALID, "message must be a JSON object"},
		{"bad JSON", "track", `{"userId":"SECRETVALUE",}`, veil.EINVALID, "invalid JSON at byte 24"},
		{"unterminated", "track", `{"userId":"SECRETVALUE`, veil.EINVALID, "invalid JSON at byte 22"},
		{"trailing data", "track", `{"userId":"u","event":"E"} {}`, veil.EINVALID, "invalid JSON at byte 27: data after the message"},
		{"control character", "track", "{\"userId\":\"a\tb\",\"event\":\"E\"}", veil.EINVALID, "invalid JSON at byte 12"},
		{"bad escape", "track", `{"userId":"\x41","event":"E"}`, veil.EINVALID, "invalid JSON at byte 11"},
		{"invalid UTF-8", "track", "{\"userId\":\"SECRET\xffVALUE\",\"event\":\"E\"}", veil.EINVALID, "invalid UTF-8 at byte 17"},
		{"invalid UTF-8 in a name", "track", "{\"\xc3(\":1}", veil.EINVALID, "invalid UTF-8 at byte 2"},
		{"UTF-8 surrogate", "track", "{\"userId\":\"\xed\xa0\x80\",\"event\":\"E\"}", veil.EINVALID, "invalid UTF-8 at byte 11"},
		{"BOM", "track", "\ufeff{\"userId\":\"u\",\"event\":\"E\"}", veil.EINVALID, "message must be a JSON object"},

		{"track without event", "track", `{"userId":"SECRETVALUE"}`, veil.EINVALID, "track needs an event name"},
		{"track empty event", "track", `{"userId":"u","event":""}`, veil.EINVALID, "track needs an event name"},
		{"track null event", "track", `{"userId":"u","event":null}`, veil.EINVALID, "track needs an event name"},
		{"track number event", "track", `{"userId":"u","event":5}`, veil.EINVALID, "event must be a string"},
		{"page number name", "page", `{"userId":"u","name":{"x":"SECRETVALUE"}}`, veil.EINVALID, "name must be a string"},
		{"no identity", "identify", `{"traits":{"email":"SECRETVALUE"}}`, veil.EINVALID, "identify needs a userId or anonymousId"},
		{"empty identities", "page", `{"userId":"","anonymousId":null}`, veil.EINVALID, "page needs a userId or anonymousId"},
		{"userId bool", "track", `{"userId":true,"event":"E"}`, veil.EINVALID, "userId must be a string or a number"},
		{"anonymousId object", "screen", `{"anonymousId":{"id":"SECRETVALUE"}}`, veil.EINVALID, "anonymousId must be a string or a number"},
		{"messageId array", "identify", `{"userId":"u","messageId":["SECRETVALUE"]}`, veil.EINVALID, "messageId must be a string or a number"},
		{"group without groupId", "group", `{"userId":"u","traits":{}}`, veil.EINVALID, "group needs a groupId"},
		{"group empty groupId", "group", `{"userId":"u","groupId":""}`, veil.EINVALID, "group needs a groupId"},
		{"alias without previousId", "alias", `{"userId":"u"}`, veil.EINVALID, "alias needs a previousId"},
		{"alias without userId", "alias", `{"anonymousId":"a","previousId":"p"}`, veil.EINVALID, "alias needs a userId"},
		{"type mismatch", "track", `{"type":"identify","userId":"u","event":"E"}`, veil.EINVALID, "type does not match the /v1/track endpoint"},
		{"type unknown", "track", `{"type":"SECRETVALUE","userId":"u","event":"E"}`, veil.EINVALID, "type does not match the /v1/track endpoint"},
		{"type number", "identify", `{"type":1,"userId":"u"}`, veil.EINVALID, "type must be a string"},
		{"timestamp garbage", "track", `{"userId":"u","event":"E","timestamp":"SECRETVALUE"}`, veil.EINVALID, "timestamp is not an ISO-8601 date-time"},
		{"timestamp number", "track", `{"userId":"u","event":"E","timestamp":1714557600000}`, veil.EINVALID, "timestamp must be an ISO-8601 date-time string"},
		{"timestamp Feb 30", "track", `{"userId":"u","event":"E","timestamp":"2024-02-30T00:00:00Z"}`, veil.EINVALID, "timestamp is not an ISO-8601 date-time"},
		{"sentAt garbage", "track", `{"userId":"u","event":"E","sentAt":"yesterday"}`, veil.EINVALID, "sentAt is not an ISO-8601 date-time"},
		{"context string", "track", `{"userId":"u","event":"E","context":"SECRETVALUE"}`, veil.EINVALID, "context must be an object"},
		{"integrations array", "track", `{"userId":"u","event":"E","integrations":[1]}`, veil.EINVALID, "integrations must be an object"},
		{"writeKey number", "track", `{"userId":"u","event":"E","writeKey":42}`, veil.EINVALID, "writeKey must be a string"},
		{"duplicate known field", "track", `{"userId":"u","event":"E","userId":"SECRETVALUE"}`, veil.EINVALID, "userId appears twice"},
		{"duplicate escaped field", "track", `{"userId":"u","event":"E","\u0075serId":"v"}`, veil.EINVALID, "userId appears twice"},
		{"duplicate unknown field", "track", `{"userId":"u","event":"E","x":1,"x":2}`, veil.EINVALID, "a field appears twice"},
		{"duplicate escaped unknown field", "track", `{"userId":"u","event":"E","x":1,"\u0078":2}`, veil.EINVALID, "a field appears twice"},

		{"batch not object", "batch", `[]`, veil.EINVALID, "batch body must be a JSON object"},
		{"batch missing", "batch", `{"writeKey":"SECRETVALUE"}`, veil.EINVALID, "batch is missing"},
		{"batch empty object", "batch", `{}`, veil.EINVALID, "batch is missing"},
		{"batch not array", "batch", `{"batch":{"type":"track"}}`, veil.EINVALID, "batch must be an array"},
		{"batch twice", "batch", `{"batch":[],"batch":[]}`, veil.EINVALID, "batch appears twice"},
		{"batch element not object", "batch", `{"batch":[{"type":"identify","userId":"u"},"SECRETVALUE"]}`, veil.EINVALID, "batch[1]: message must be a JSON object"},
		{"batch element bad JSON", "batch", `{"batch":[{"type":"identify","userId":"u"},{"a":}]}`, veil.EINVALID, "batch[1]: invalid JSON at byte 48"},
		{"batch type missing", "batch", `{"batch":[{"userId":"u"}]}`, veil.EINVALID, "batch[0]: type is missing"},
		{"batch type unknown", "batch", `{"batch":[{"type":"batch","userId":"u"}]}`, veil.EINVALID, "batch[0]: type must be one of track, identify, page, screen, group or alias"},
		{"batch type case", "batch", `{"batch":[{"type":"Track","userId":"u","event":"E"}]}`, veil.EINVALID, "batch[0]: type must be one of track, identify, page, screen, group or alias"},
		{"batch rule", "batch", `{"batch":[{"type":"identify","userId":"u"},{"type":"identify","userId":"u"},{"type":"identify","userId":"u"},{"type":"track","userId":"u"}]}`,
			veil.EINVALID, "batch[3]: track needs an event name"},
		{"batch sentAt", "batch", `{"batch":[],"sentAt":"SECRETVALUE"}`, veil.EINVALID, "sentAt is not an ISO-8601 date-time"},
		{"batch writeKey", "batch", `{"batch":[],"writeKey":["SECRETVALUE"]}`, veil.EINVALID, "writeKey must be a string"},
		{"batch writeKey twice", "batch", `{"batch":[],"writeKey":"a","writeKey":"b"}`, veil.EINVALID, "writeKey appears twice"},
		{"batch context", "batch", `{"batch":[],"context":"SECRETVALUE"}`, veil.EINVALID, "context must be an object"},
		{"batch trailing", "batch", `{"batch":[]}x`, veil.EINVALID, "invalid JSON at byte 12: data after the batch"},
		{"batch bad envelope JSON", "batch", `{"batch":[] "x":1}`, veil.EINVALID, "invalid JSON at byte 12"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := events.Parse([]byte(tt.body), tt.endpoint, recv, events.Limits{})
			if err == nil {
				t.Fatal("no error")
			}
			if code := veil.ErrorCode(err); code != tt.code {
				t.Errorf("code %q, want %q (%v)", code, tt.code, err)
			}
			if msg := veil.ErrorMessage(err); msg != tt.msg {
				t.Errorf("message %q, want %q", msg, tt.msg)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error repeats the payload: %v", err)
			}
		})
	}
}

// padded returns a track message of exactly n bytes.
func padded(t testing.TB, n int) string {
	t.Helper()
	const head, tail = `{"type":"track","userId":"u","event":"E","properties":{"pad":"`, `"}}`
	if n < len(head)+len(tail) {
		t.Fatalf("cannot pad to %d", n)
	}
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

// batchOf returns a batch body of exactly n bytes holding k messages.
func batchOf(t testing.TB, n, k int) string {
	t.Helper()
	const head, tail = `{"batch":[`, `]}`
	small := `{"type":"identify","userId":"u"}`
	body := strings.Repeat(small+",", k-1)
	return head + body + padded(t, n-len(head)-len(tail)-len(body)) + tail
}

func TestParse_Limits(t *testing.T) {
	lim := events.DefaultLimits()
	big := events.Limits{MaxMessage: 1 << 20, MaxBatch: 1 << 22, MaxStringLen: 1 << 20}
	nest := func(n int) string { // a message n levels deep
		return `{"type":"track","userId":"u","event":"E","p":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`
	}
	for _, tt := range []struct {
		name, endpoint, body string
		lim                  events.Limits
		msg                  string // "" = accepted
	}{
		{"message at limit", "track", padded(t, 32768), lim, ""},
		{"message over limit", "track", padded(t, 32769), lim, "message is 32769 bytes; the limit is 32 KB per message"},
		{"odd limit", "track", padded(t, 1001), events.Limits{MaxMessage: 1000}, "message is 1001 bytes; the limit is 1000 bytes per message"},
		{"batch at limit", "batch", batchOf(t, 500<<10, 500), big, ""},
		{"batch over limit", "batch", batchOf(t, 500<<10+1, 500), lim, "batch is 512001 bytes; the limit is 500 KB per batch"},
		{"batch message at limit", "batch", batchOf(t, 32768+12+4*33, 5), lim, ""},
		{"batch message over limit", "batch", `{"batch":[` + strings.Repeat(`{"type":"identify","userId":"u"},`, 3) + padded(t, 40123) + `]}`,
			lim, "message 3 is 40123 bytes; the limit is 32 KB per message"},
		{"messages at limit", "batch", batchOf(t, 4000, 10), events.Limits{MaxBatchMessages: 10}, ""},
		{"messages over limit", "batch", batchOf(t, 4000, 11), events.Limits{MaxBatchMessages: 10}, "batch has more than 10 messages"},
		{"depth at limit", "track", nest(64), lim, ""},
		{"depth over limit", "track", nest(65), lim, "nesting is deeper than 64 levels"},
		{"depth in batch", "batch", `{"batch":[` + nest(65) + `]}`, lim, "batch[0]: nesting is deeper than 64 levels"},
		{"envelope depth", "batch", `{"batch":[],"x":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`, lim, "nesting is deeper than 64 levels"},
		{"string at limit", "track", `{"type":"track","userId":"u","event":"E","s":"` + strings.Repeat("é", 8) + `"}`, events.Limits{MaxStringLen: 16}, ""},
		{"long string in batch", "batch", `{"batch":[{"type":"identify","userId":"u"},` + padded(t, 300) + `]}`, events.Limits{MaxStringLen: 200},
			"batch[1]: a string at byte 104 is longer than 200 bytes"},
		{"long string before the batch", "batch", `{"x":"` + strings.Repeat("x", 201) + `","batch":[{"type":"identify","userId":"u"}]}`, events.Limits{MaxStringLen: 200},
			"a string at byte 5 is longer than 200 bytes"},
		{"long string in envelope", "batch", `{"batch":[],"x":"` + strings.Repeat("x", 201) + `"}`, events.Limits{MaxStringLen: 200},
			"a string at byte 16 is longer than 200 bytes"},
		{"string over limit", "track", `{"type":"track","userId":"u","event":"E","s":"` + strings.Repeat("x", 17) + `"}`, events.Limits{MaxStringLen: 16},
			"a string at byte 45 is longer than 16 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := events.Parse([]byte(tt.body), tt.endpoint, recv, tt.lim)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				for _, m := range r.Messages {
					if len(m.JSON) > max(tt.lim.MaxMessage, lim.MaxMessage)+events.Overhead {
						t.Fatalf("stored message is %d bytes", len(m.JSON))
					}
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if got := veil.ErrorMessage(err); got != tt.msg {
				t.Fatalf("message %q, want %q", got, tt.msg)
			}
			want := veil.EINVALID
			if strings.Contains(tt.msg, " bytes") || strings.Contains(tt.msg, "more than") || strings.Contains(tt.msg, "longer than") {
				want = veil.ETOOLARGE
			}
			if got := veil.ErrorCode(err); got != want {
				t.Fatalf("code %q, want %q", got, want)
			}
		})
	}
}

// TestParse_MergeLimits: batch context is merged into every message, so it
// must not let a small body grow without bound.
func TestParse_MergeLimits(t *testing.T) {
	ctx := `{"blob":"` + strings.Repeat("x", 16000) + `"}`
	one := `{"type":"identify","userId":"u","context":{"pad":"` + strings.Repeat("y", 17000) + `"}}`
	_, err := events.Parse([]byte(`{"batch":[`+one+`],"context":`+ctx+`}`), "batch", recv, events.Limits{})
	if veil.ErrorCode(err) != veil.ETOOLARGE || !strings.HasPrefix(veil.ErrorMessage(err), "message 0 is 33") {
		t.Fatalf("merged message over 32 KB: %v", err)
	}
	small := strings.Repeat(`{"type":"identify","userId":"u"},`, 40)
	_, err = events.Parse([]byte(`{"batch":[`+small[:len(small)-1]+`],"context":`+ctx+`}`), "batch", recv, events.Limits{MaxBatch: 300 << 10})
	if veil.ErrorCode(err) != veil.ETOOLARGE || veil.ErrorMessage(err) != "batch context merged into every message adds more than 300 KB" {
		t.Fatalf("amplification: %v", err)
	}
	// Fields the server moves (messageId, timestamp) count too: a long
	// messageId plus a merged context stays within MaxMessage + Overhead.
	long := `{"type":"track","userId":1,"event":"E","messageId":"` + strings.Repeat("m", 16000) +
		`","timestamp":"2024-05-01T10:00:00Z","context":{"a":1}}`
	for _, c := range []int{16600, 16700} {
		ctx := `{"b":"` + strings.Repeat("x", c) + `"}`
		r, err := events.Parse([]byte(`{"batch":[`+long+`],"context":`+ctx+`,"sentAt":"2024-05-01T10:00:00Z"}`), "batch", recv, events.Limits{})
		if err != nil {
			if veil.ErrorCode(err) != veil.ETOOLARGE {
				t.Fatal(err)
			}
			continue
		}
		if n := len(r.Messages[0].JSON); n > 32<<10+events.Overhead {
			t.Fatalf("stored %d bytes", n)
		}
	}

	// 25 messages: merging adds 400 KB, under the 500 KB allowance.
	small = strings.Repeat(`{"type":"identify","userId":"u"},`, 25)
	if _, err = events.Parse([]byte(`{"batch":[`+small[:len(small)-1]+`],"context":`+ctx+`}`), "batch", recv, events.Limits{}); err != nil {
		t.Fatalf("merging 400 KB: %v", err)
	}
}
