package ingest_test

import (
	"fmt"
	"testing"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"
)

// TestSegmentGoClient points Segment's own Go library at Veil and checks
// that every call type arrives intact, field by field.
func TestSegmentGoClient(t *testing.T) {
	e := newEnv(t, nil)
	client, err := analytics.NewWithConfig(e.project.ServerKey, analytics.Config{
		Endpoint: e.srv.URL, BatchSize: 10, Interval: 50 * time.Millisecond,
		Logger: testLogger{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	sent := []analytics.Message{
		analytics.Track{MessageId: "go-track", UserId: "u-1", Event: "Signed Up", Timestamp: ts,
			Properties: analytics.NewProperties().Set("plan", "pro").Set("seats", 3)},
		analytics.Identify{MessageId: "go-identify", UserId: "u-1", Timestamp: ts,
			Traits: analytics.NewTraits().SetName("Synthetic User").Set("tier", "gold")},
		analytics.Page{MessageId: "go-page", AnonymousId: "anon-1", Name: "Pricing", Timestamp: ts,
			Properties: analytics.NewProperties().SetURL("https://shop.example.com/pricing")},
		analytics.Screen{MessageId: "go-screen", UserId: "u-1", Name: "Home", Timestamp: ts},
		analytics.Group{MessageId: "go-group", UserId: "u-1", GroupId: "g-9", Timestamp: ts,
			Traits: analytics.NewTraits().Set("industry", "retail")},
		analytics.Alias{MessageId: "go-alias", PreviousId: "anon-1", UserId: "u-1", Timestamp: ts},
	}
	for _, m := range sent {
		if err := client.Enqueue(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	e.pack()
	got := map[string]map[string]any{}
	for _, m := range e.storedEvents() {
		got[m["messageId"].(string)] = m
	}
	want := map[string]map[string]any{
		"go-track":    {"type": "track", "userId": "u-1", "event": "Signed Up", "properties.plan": "pro", "properties.seats": 3.0},
		"go-identify": {"type": "identify", "userId": "u-1", "traits.name": "Synthetic User", "traits.tier": "gold"},
		"go-page":     {"type": "page", "anonymousId": "anon-1", "name": "Pricing", "properties.url": "https://shop.example.com/pricing"},
		"go-screen":   {"type": "screen", "userId": "u-1", "name": "Home"},
		"go-group":    {"type": "group", "userId": "u-1", "groupId": "g-9", "traits.industry": "retail"},
		"go-alias":    {"type": "alias", "userId": "u-1", "previousId": "anon-1"},
	}
	if len(got) != len(want) {
		t.Fatalf("stored %d messages, want %d: %v", len(got), len(want), keys(got))
	}
	for id, fields := range want {
		m := got[id]
		if m == nil {
			t.Errorf("%s missing", id)
			continue
		}
		for path, v := range fields {
			if g := lookup(m, path); g != v {
				t.Errorf("%s: %s = %v, want %v", id, path, g, v)
			}
		}
		if lib := lookup(m, "context.library.name"); lib != "analytics-go" {
			t.Errorf("%s: context.library.name = %v", id, lib)
		}
		if _, ok := m["receivedAt"]; !ok {
			t.Errorf("%s: no receivedAt", id)
		}
	}
}

type testLogger struct{ t *testing.T }

func (l testLogger) Logf(format string, args ...any) { l.t.Logf(format, args...) }
func (l testLogger) Errorf(format string, args ...any) {
	l.t.Logf("analytics-go error: "+format, args...)
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// lookup follows a dotted path through decoded JSON.
func lookup(m map[string]any, path string) any {
	var cur any = m
	for _, p := range splitDots(path) {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

var _ = fmt.Sprint
