package ingest_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/testenv"
)

// TestSegmentNodeClient runs Segment's own @segment/analytics-node (pinned
// in test/segment-node, installed by `make deps`) against Veil.
func TestSegmentNodeClient(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "test", "segment-node")
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", "node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@segment", "analytics-node")); err != nil {
		testenv.Missing(t, "@segment/analytics-node", "run `npm ci` in test/segment-node (make deps does)")
	}
	e := newEnv(t, nil)
	cmd := exec.Command(node, "send.mjs", e.srv.URL, e.project.ServerKey)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("analytics-node: %v\n%s", err, out)
	}
	var res struct {
		Sent     []string
		Failures []string
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Sent) != 6 {
		t.Fatalf("analytics-node output: %s", out)
	}
	e.pack()
	got := map[string]map[string]any{}
	for _, m := range e.storedEvents() {
		got[m["messageId"].(string)] = m
	}
	want := map[string]map[string]any{
		"node-track":    {"type": "track", "userId": "u-1", "event": "Signed Up", "properties.plan": "pro", "properties.seats": 3.0, "originalTimestamp": "2026-11-20T09:30:00.000Z"},
		"node-identify": {"type": "identify", "userId": "u-1", "traits.name": "Synthetic User", "traits.tier": "gold"},
		"node-page":     {"type": "page", "anonymousId": "anon-1", "name": "Pricing", "properties.url": "https://shop.example.com/pricing"},
		"node-screen":   {"type": "screen", "userId": "u-1", "name": "Home"},
		"node-group":    {"type": "group", "userId": "u-1", "groupId": "g-9", "traits.industry": "retail"},
		"node-alias":    {"type": "alias", "userId": "u-1", "previousId": "anon-1"},
	}
	if len(got) != len(want) {
		t.Fatalf("stored %d messages, want %d: %v", len(got), len(want), keys(got))
	}
	for id, fields := range want {
		m := got[id]
		if m == nil {
			t.Errorf("%s missing (stored: %v)", id, keys(got))
			continue
		}
		for path, v := range fields {
			if g := lookup(m, path); g != v {
				t.Errorf("%s: %s = %v, want %v", id, path, g, v)
			}
		}
		// Segment's skew correction moves timestamp by the client's clock
		// offset plus transit time: it stays within a few seconds here.
		if ts, _ := m["timestamp"].(string); !strings.HasPrefix(ts, "2026-11-20T09:30:0") {
			t.Errorf("%s: timestamp = %v", id, m["timestamp"])
		}
		if lib := lookup(m, "context.library.name"); lib != "@segment/analytics-node" {
			t.Errorf("%s: context.library.name = %v", id, lib)
		}
	}
}
