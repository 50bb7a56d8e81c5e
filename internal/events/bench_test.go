package events_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/events"
)

var recv = time.Date(2024, 5, 1, 10, 1, 0, 0, time.UTC)

// BenchmarkParseBatch parses analytics-node batches of 100 ~600-byte track
// events. events/s per core = 100 / (ns/op) * 1e9.
func BenchmarkParseBatch(b *testing.B) {
	body := nodeBatch(100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := events.Parse(body, "batch", recv, events.Limits{})
		if err != nil || len(r.Messages) != 100 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkParseTrack parses one message sent to /v1/track.
func BenchmarkParseTrack(b *testing.B) {
	body := []byte(nodeTrack(7))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := events.Parse(body, "track", recv, events.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodingJSONBaseline does the least encoding/json needs for the
// same job (decode each message into a map of raw values, add the server's
// fields, encode), for comparison with BenchmarkParseBatch.
func BenchmarkEncodingJSONBaseline(b *testing.B) {
	body := nodeBatch(100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var env struct {
			Batch  []json.RawMessage `json:"batch"`
			SentAt string            `json:"sentAt"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			b.Fatal(err)
		}
		for _, raw := range env.Batch {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				b.Fatal(err)
			}
			m["receivedAt"] = json.RawMessage(`"2024-05-01T10:01:00Z"`)
			if _, err := json.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}
