package events_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/events"
)

// MustParse parses body or fails the test.
func MustParse(tb testing.TB, endpoint, body string) *events.Request {
	tb.Helper()
	r, err := events.Parse([]byte(body), endpoint, recv, events.Limits{})
	if err != nil {
		tb.Fatalf("Parse(%s): %v", endpoint, err)
	}
	return r
}

// stored decodes a message's stored JSON, checking it is a valid object.
func stored(tb testing.TB, m events.Message) map[string]any {
	tb.Helper()
	var v map[string]any
	if err := json.Unmarshal(m.JSON, &v); err != nil {
		tb.Fatalf("stored JSON is invalid: %v\n%s", err, m.JSON)
	}
	return v
}

func TestParse_Types(t *testing.T) {
	for _, tt := range []struct {
		endpoint, body string
		want           events.Message // string fields only
	}{
		{"track", `{"userId":"u1","event":"Signed Up","properties":{"plan":"pro"}}`,
			events.Message{Type: "track", UserID: "u1", Event: "Signed Up"}},
		{"track", `{"anonymousId":"a1","event":"E","type":"track"}`,
			events.Message{Type: "track", AnonymousID: "a1", Event: "E"}},
		{"identify", `{"userId":"u1","traits":{"email":"x@example.com"}}`,
			events.Message{Type: "identify", UserID: "u1"}},
		{"identify", `{"anonymousId":"a1"}`,
			events.Message{Type: "identify", AnonymousID: "a1"}},
		{"page", `{"userId":"u1","name":"Home","category":"Docs","properties":{"path":"/"}}`,
			events.Message{Type: "page", UserID: "u1", Name: "Home"}},
		{"page", `{"anonymousId":"a1","name":null}`,
			events.Message{Type: "page", AnonymousID: "a1"}},
		{"screen", `{"userId":"u1","name":"Main"}`,
			events.Message{Type: "screen", UserID: "u1", Name: "Main"}},
		{"group", `{"userId":"u1","groupId":"g1","traits":{"name":"Org"}}`,
			events.Message{Type: "group", UserID: "u1", GroupID: "g1"}},
		{"alias", `{"userId":"u1","previousId":"p1"}`,
			events.Message{Type: "alias", UserID: "u1", PreviousID: "p1"}},
		// Identifiers may be numbers; they become strings.
		{"track", `{"userId":123,"event":"E","messageId":77}`,
			events.Message{Type: "track", UserID: "123", Event: "E", MessageID: "77"}},
		{"group", `{"anonymousId":-5,"groupId":1.5e3}`,
			events.Message{Type: "group", AnonymousID: "-5", GroupID: "1.5e3"}},
		{"alias", `{"userId":1,"previousId":0}`,
			events.Message{Type: "alias", UserID: "1", PreviousID: "0"}},
		// Escapes are decoded in the fields, kept as sent in the JSON.
		{"track", `{"userId":"\u00e9\ud83d\ude00","event":"a\"b","messageId":"m\/1"}`,
			events.Message{Type: "track", UserID: "é😀", Event: `a"b`, MessageID: "m/1"}},
		// An escaped field name is still the field.
		{"track", `{"user\u0049d":"u1","event":"E"}`,
			events.Message{Type: "track", UserID: "u1", Event: "E"}},
	} {
		t.Run(tt.endpoint, func(t *testing.T) {
			r := MustParse(t, tt.endpoint, tt.body)
			if len(r.Messages) != 1 {
				t.Fatalf("%d messages", len(r.Messages))
			}
			m := r.Messages[0]
			got := events.Message{Type: m.Type, MessageID: m.MessageID, UserID: m.UserID, AnonymousID: m.AnonymousID,
				Event: m.Event, Name: m.Name, GroupID: m.GroupID, PreviousID: m.PreviousID}
			if tt.want.MessageID == "" {
				got.MessageID = ""
			}
			if got.Type != tt.want.Type || got.MessageID != tt.want.MessageID || got.UserID != tt.want.UserID ||
				got.AnonymousID != tt.want.AnonymousID || got.Event != tt.want.Event || got.Name != tt.want.Name ||
				got.GroupID != tt.want.GroupID || got.PreviousID != tt.want.PreviousID {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			v := stored(t, m)
			if v["type"] != tt.want.Type || v["messageId"] != m.MessageID {
				t.Fatalf("stored type/messageId = %v/%v", v["type"], v["messageId"])
			}
			for k, want := range map[string]string{"userId": m.UserID, "anonymousId": m.AnonymousID, "groupId": m.GroupID, "previousId": m.PreviousID} {
				if want != "" && v[k] != want {
					t.Errorf("stored %s = %#v, want %q", k, v[k], want)
				}
			}
		})
	}
}

// TestParse_Stored checks the normalized JSON: unknown fields kept in
// order, server fields added, writeKey and client receivedAt dropped.
func TestParse_Stored(t *testing.T) {
	body := `{"writeKey":"wk_SECRET","receivedAt":"1999-01-01T00:00:00Z","userId":"u1","event":"E",` +
		`"properties":{"a":[1,2,{"b":null}]},"custom":true,"timestamp":"2024-05-01T10:00:00+02:00"}`
	r := MustParse(t, "track", body)
	if r.WriteKey != "wk_SECRET" {
		t.Fatalf("WriteKey = %q", r.WriteKey)
	}
	m := r.Messages[0]
	want := `{"userId":"u1","event":"E","properties":{"a":[1,2,{"b":null}]},"custom":true,"type":"track","messageId":"` +
		m.MessageID + `","timestamp":"2024-05-01T08:00:00Z","originalTimestamp":"2024-05-01T10:00:00+02:00",` +
		`"receivedAt":"2024-05-01T10:01:00Z"}`
	if string(m.JSON) != want {
		t.Fatalf("JSON\n got %s\nwant %s", m.JSON, want)
	}
	if cap(m.JSON) != len(m.JSON) {
		t.Error("JSON has spare capacity: an append would overwrite the next message")
	}
}

func TestParse_WriteKey(t *testing.T) {
	r := MustParse(t, "batch", `{"writeKey":"wk_1","batch":[{"type":"track","userId":"u","event":"E","writeKey":"wk_other"}]}`)
	if r.WriteKey != "wk_1" {
		t.Fatalf("WriteKey = %q, want the envelope's", r.WriteKey)
	}
	if strings.Contains(string(r.Messages[0].JSON), "writeKey") {
		t.Fatalf("writeKey stored: %s", r.Messages[0].JSON)
	}
	if r := MustParse(t, "identify", `{"userId":"u","writeKey":null}`); r.WriteKey != "" {
		t.Fatalf("null writeKey = %q", r.WriteKey)
	}
	if r := MustParse(t, "batch", `{"batch":[]}`); r.WriteKey != "" || len(r.Messages) != 0 {
		t.Fatalf("empty batch = %+v", r)
	}
}

func TestParse_Timestamps(t *testing.T) {
	recvAt := recv // 10:01:00Z
	for _, tt := range []struct {
		name, body                  string
		timestamp, original, sentAt string // RFC 3339; "" = zero
	}{
		{"none", `{"userId":"u","event":"E"}`, "2024-05-01T10:01:00Z", "", ""},
		{"timestamp only", `{"userId":"u","event":"E","timestamp":"2024-05-01T09:00:00Z"}`,
			"2024-05-01T09:00:00Z", "2024-05-01T09:00:00Z", ""},
		// The client clock is 1 h 59 m 50 s fast: sent at 12:00:50 by its
		// clock, received at 10:01:00; the event was 10 s before sending.
		{"corrected", `{"userId":"u","event":"E","timestamp":"2024-05-01T12:00:40Z","sentAt":"2024-05-01T12:00:50Z"}`,
			"2024-05-01T10:00:50Z", "2024-05-01T12:00:40Z", "2024-05-01T12:00:50Z"},
		{"corrected with offsets", `{"userId":"u","event":"E","timestamp":"2024-05-01T14:00:40.5+02:00","sentAt":"2024-05-01T12:00:50Z"}`,
			"2024-05-01T10:00:50.5Z", "2024-05-01T12:00:40.5Z", "2024-05-01T12:00:50Z"},
		{"slow clock", `{"userId":"u","event":"E","timestamp":"2024-05-01T09:00:00Z","sentAt":"2024-05-01T09:30:00Z"}`,
			"2024-05-01T09:31:00Z", "2024-05-01T09:00:00Z", "2024-05-01T09:30:00Z"},
		{"sentAt without timestamp", `{"userId":"u","event":"E","sentAt":"2024-05-01T09:30:00Z"}`,
			"2024-05-01T10:01:00Z", "", "2024-05-01T09:30:00Z"},
		{"empty strings and null", `{"userId":"u","event":"E","timestamp":"","sentAt":null}`,
			"2024-05-01T10:01:00Z", "", ""},
		{"absurd sentAt saturates", `{"userId":"u","event":"E","timestamp":"9999-12-31T23:59:59Z","sentAt":"0001-01-01T00:00:00Z"}`,
			recvAt.Add(1<<63 - 1).Format(time.RFC3339Nano), "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := MustParse(t, "track", tt.body).Messages[0]
			check := func(field string, got time.Time, want string) {
				t.Helper()
				if want == "" && !got.IsZero() || want != "" && got.Format(time.RFC3339Nano) != want {
					t.Errorf("%s = %v, want %q", field, got, want)
				}
			}
			check("Timestamp", m.Timestamp, tt.timestamp)
			check("OriginalTimestamp", m.OriginalTimestamp, tt.original)
			check("SentAt", m.SentAt, tt.sentAt)
			if !m.ReceivedAt.Equal(recvAt) {
				t.Errorf("ReceivedAt = %v", m.ReceivedAt)
			}
			v := stored(t, m)
			if v["timestamp"] != tt.timestamp || v["receivedAt"] != "2024-05-01T10:01:00Z" {
				t.Errorf("stored timestamp/receivedAt = %v/%v", v["timestamp"], v["receivedAt"])
			}
			if _, ok := v["originalTimestamp"]; ok != (tt.original != "") {
				t.Errorf("stored originalTimestamp = %v", v["originalTimestamp"])
			}
			if _, ok := v["sentAt"]; ok != (tt.sentAt != "") {
				t.Errorf("stored sentAt = %v", v["sentAt"])
			}
		})
	}
}

func TestParse_BatchSentAt(t *testing.T) {
	r := MustParse(t, "batch", `{"sentAt":"2024-05-01T12:00:50Z","batch":[`+
		`{"type":"track","userId":"u","event":"E","timestamp":"2024-05-01T12:00:40Z"},`+
		`{"type":"track","userId":"u","event":"E","timestamp":"2024-05-01T12:00:40Z","sentAt":"2024-05-01T12:00:40Z"}]}`)
	if got := r.Messages[0].Timestamp.Format(time.RFC3339); got != "2024-05-01T10:00:50Z" {
		t.Errorf("batch sentAt not applied: timestamp %s", got)
	}
	if got := r.Messages[1].Timestamp.Format(time.RFC3339); got != "2024-05-01T10:01:00Z" {
		t.Errorf("message sentAt did not win: timestamp %s", got)
	}
}

func TestParse_BatchMerge(t *testing.T) {
	env := `"context":{"library":{"name":"batch-lib"},"ip":"192.0.2.1"},"integrations":{"All":false,"Mixpanel":true}`
	for _, tt := range []struct {
		name, msg             string
		context, integrations string
	}{
		{"absent", `{}`,
			`{"library":{"name":"batch-lib"},"ip":"192.0.2.1"}`, `{"All":false,"Mixpanel":true}`},
		{"message wins per key", `{"context":{"library":{"name":"msg-lib"},"locale":"de"},"integrations":{"All":true}}`,
			`{"library":{"name":"msg-lib"},"locale":"de","ip":"192.0.2.1"}`, `{"All":true,"Mixpanel":true}`},
		{"null and empty array", `{"context":null,"integrations":[]}`,
			`{"library":{"name":"batch-lib"},"ip":"192.0.2.1"}`, `{"All":false,"Mixpanel":true}`},
		{"empty object", `{"context":{ },"integrations":{}}`,
			`{ "library":{"name":"batch-lib"},"ip":"192.0.2.1"}`, `{"All":false,"Mixpanel":true}`},
		{"escaped names", `{"context":{"\u0069p":"203.0.113.9"}}`,
			`{"\u0069p":"203.0.113.9","library":{"name":"batch-lib"}}`, `{"All":false,"Mixpanel":true}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msg := `{"type":"identify","userId":"u",` + tt.msg[1:]
			if tt.msg == `{}` {
				msg = `{"type":"identify","userId":"u"}`
			}
			r := MustParse(t, "batch", `{"batch":[`+msg+`],`+env+`}`)
			m := r.Messages[0]
			var v map[string]json.RawMessage
			if err := json.Unmarshal(m.JSON, &v); err != nil {
				t.Fatalf("%v: %s", err, m.JSON)
			}
			if string(v["context"]) != tt.context || string(v["integrations"]) != tt.integrations {
				t.Fatalf("context %s\nintegrations %s", v["context"], v["integrations"])
			}
		})
	}
	// Batch-level values that are empty or null change nothing.
	m := MustParse(t, "batch", `{"batch":[{"type":"identify","userId":"u","context":{"a":1}}],"context":{},"integrations":null}`).Messages[0]
	if v := stored(t, m); v["integrations"] != nil || len(v["context"].(map[string]any)) != 1 {
		t.Fatalf("empty batch context changed the message: %s", m.JSON)
	}
}

var idPattern = regexp.MustCompile(`^veil-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestParse_MessageIDGenerated(t *testing.T) {
	seen := make(map[string]bool)
	for range 100 {
		r, err := events.Parse(nodeBatchNoIDs(100), "batch", recv, events.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Messages {
			if !idPattern.MatchString(m.MessageID) {
				t.Fatalf("generated id %q", m.MessageID)
			}
			if seen[m.MessageID] {
				t.Fatalf("id %q generated twice", m.MessageID)
			}
			seen[m.MessageID] = true
			if stored(t, m)["messageId"] != m.MessageID {
				t.Fatal("stored messageId differs")
			}
		}
	}
	// An empty or null messageId is replaced too.
	for _, body := range []string{`{"userId":"u","event":"E","messageId":""}`, `{"userId":"u","event":"E","messageId":null}`} {
		if m := MustParse(t, "track", body).Messages[0]; !idPattern.MatchString(m.MessageID) || strings.Count(string(m.JSON), "messageId") != 1 {
			t.Fatalf("%s: id %q, JSON %s", body, m.MessageID, m.JSON)
		}
	}
}

func nodeBatchNoIDs(n int) []byte {
	return regexp.MustCompile(`"messageId":"[^"]*",`).ReplaceAll(nodeBatch(n), nil)
}

// TestParse_Fixtures parses payloads shaped like the ones Segment's
// libraries send (synthetic data).
func TestParse_Fixtures(t *testing.T) {
	for _, tt := range []struct {
		file     string
		types    []string
		writeKey string
	}{
		{"analytics-go-batch.json", []string{"identify", "track", "group", "alias"}, ""},
		{"analytics-node-batch.json", []string{"track", "page", "identify", "screen"}, ""},
		{"segment-docs-batch.json", []string{"identify", "track", "identify", "track"}, "EXAMPLE_WRITE_KEY"},
		{"php-python-batch.json", []string{"track", "identify"}, ""},
	} {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			r := MustParse(t, "import", string(body))
			if r.WriteKey != tt.writeKey || len(r.Messages) != len(tt.types) {
				t.Fatalf("writeKey %q, %d messages", r.WriteKey, len(r.Messages))
			}
			for i, m := range r.Messages {
				v := stored(t, m)
				if m.Type != tt.types[i] || v["type"] != m.Type {
					t.Errorf("message %d: type %q", i, m.Type)
				}
				if _, ok := v["writeKey"]; ok {
					t.Errorf("message %d: writeKey stored", i)
				}
				if ctx, _ := v["context"].(map[string]any); tt.file != "analytics-node-batch.json" && ctx == nil {
					t.Errorf("message %d: batch context not merged", i)
				}
				if m.Timestamp.IsZero() || m.Timestamp.After(recv) {
					t.Errorf("message %d: timestamp %v", i, m.Timestamp)
				}
			}
		})
	}
	// Spot checks.
	body, _ := os.ReadFile("testdata/segment-docs-batch.json")
	if m := MustParse(t, "batch", string(body)).Messages[2]; m.Timestamp.Format(time.RFC3339Nano) != "2015-02-02T00:30:08.276Z" {
		t.Errorf("one-digit month: %v", m.Timestamp)
	}
	body, _ = os.ReadFile("testdata/php-python-batch.json")
	r := MustParse(t, "batch", string(body))
	if r.Messages[0].UserID != "10042" || !r.Messages[1].SentAt.Equal(time.Date(2024, 5, 1, 10, 0, 5, 5e8, time.UTC)) {
		t.Errorf("php/python: userId %q, sentAt %v", r.Messages[0].UserID, r.Messages[1].SentAt)
	}
	body, _ = os.ReadFile("testdata/analytics-go-batch.json")
	if m := MustParse(t, "batch", string(body)).Messages[0]; m.OriginalTimestamp.Format(time.RFC3339Nano) != "2024-05-01T09:59:58.123456789Z" {
		t.Errorf("analytics-go offset: %v", m.OriginalTimestamp)
	}
}

// TestParse_OwnMemory checks that the result does not alias the body.
func TestParse_OwnMemory(t *testing.T) {
	body := nodeBatch(3)
	r, err := events.Parse(body, "batch", recv, events.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	before := string(r.Messages[1].JSON)
	for i := range body {
		body[i] = 'x'
	}
	if string(r.Messages[1].JSON) != before || r.Messages[1].UserID != "user_000001" {
		t.Fatal("result changed with the body")
	}
}
