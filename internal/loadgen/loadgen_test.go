package loadgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestReplayGen: requests go round the session pool, every (session, seq)
// is sent once, sessions last segmentsPerSession segments, the bodies
// vary, and each is the SDK's gzip {"events":[…],"meta":{…}}.
func TestReplayGen(t *testing.T) {
	const sessions, requests = 7, 1000
	gen := newReplayGen(8, sessions)
	seen := map[string]bool{}
	perSession := map[string]int{}
	bodies := map[string]bool{}
	var body []byte
	for n := range int64(requests) {
		b, path, gz, _, decoded := gen(0, n)
		if !gz || decoded == 0 {
			t.Fatalf("request %d: gzip %v, decoded %d", n, gz, decoded)
		}
		body = b
		bodies[string(b)] = true
		u, err := url.Parse(path)
		if err != nil || u.Path != "/v1/replay" {
			t.Fatalf("path %q", path)
		}
		sid, seq := u.Query().Get("session"), u.Query().Get("seq")
		if s, err := strconv.Atoi(seq); err != nil || s < 0 || s >= segmentsPerSession || len(sid) < 8 || len(sid) > 64 {
			t.Fatalf("session %q seq %q", sid, seq)
		}
		if seen[sid+"/"+seq] {
			t.Fatalf("%s seq %s sent twice", sid, seq)
		}
		seen[sid+"/"+seq] = true
		perSession[sid]++
	}
	if got, most := len(perSession), requests/segmentsPerSession+2*sessions; got < sessions || got > most {
		t.Errorf("%d sessions for %d requests over a pool of %d, want %d…%d", got, requests, sessions, sessions, most)
	}
	for sid, n := range perSession {
		if n > segmentsPerSession {
			t.Errorf("session %s got %d segments", sid, n)
		}
	}
	if len(bodies) != replayVariants {
		t.Errorf("%d different bodies in %d requests, want %d", len(bodies), requests, replayVariants)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	var upload struct {
		Events []map[string]any `json:"events"`
		Meta   struct{ URL string }
	}
	if err := json.Unmarshal(plain, &upload); err != nil || len(upload.Events) < 2 || upload.Meta.URL == "" {
		t.Fatalf("body: %v, %d events, meta %+v", err, len(upload.Events), upload.Meta)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Target: "http://127.0.0.1:8080", Key: "veil_sk_x", Mode: "replay", Duration: time.Second, Concurrency: 1, Batch: 100}
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"remote", func(c *Config) { c.Target = "http://example.com" }, "not a loopback"},
		{"remote allowed", func(c *Config) { c.Target = "http://example.com"; c.AllowRemote = true }, ""},
		{"no key", func(c *Config) { c.Key = "" }, "--key"},
		{"mode", func(c *Config) { c.Mode = "x" }, "--mode"},
		{"sessions", func(c *Config) { c.Sessions = -1 }, "--sessions"},
		{"concurrency", func(c *Config) { c.Concurrency = 0 }, "--concurrency"},
		{"rate", func(c *Config) { c.Rate = -1 }, "--rate"},
	}
	for _, tt := range tests {
		c := ok
		tt.mod(&c)
		err := c.Validate()
		if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestRun drives a real HTTP server for a moment in both modes and checks
// what the result counts.
func TestRun(t *testing.T) {
	var replays, batches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if user, _, _ := r.BasicAuth(); user != "veil_sk_test" {
			http.Error(w, "key", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/v1/replay":
			replays.Add(1)
		case "/v1/batch":
			batches.Add(1)
		}
		io.WriteString(w, `{"success":true}`)
	}))
	defer srv.Close()
	for _, mode := range []string{"replay", "events"} {
		res, err := Run(context.Background(), Config{Target: srv.URL, Key: "veil_sk_test", Mode: mode,
			Duration: 300 * time.Millisecond, Concurrency: 2, Batch: 10, EventSize: 600, SegmentKB: 4})
		if err != nil {
			t.Fatal(err)
		}
		if res.OK == 0 || res.OK != res.Requests || res.P50 <= 0 || res.P99 < res.P50 || res.WireBytes == 0 || res.DecodedBytes < res.WireBytes {
			t.Errorf("%s: %+v", mode, res)
		}
		if mode == "events" && res.Events != 10*res.OK {
			t.Errorf("events: %d events for %d batches of 10", res.Events, res.OK)
		}
	}
	if replays.Load() == 0 || batches.Load() == 0 {
		t.Errorf("server saw %d replay and %d batch requests", replays.Load(), batches.Load())
	}
}

// TestRun_Rate: at a fixed rate the senders never get ahead of the
// schedule (a slow machine may send fewer, never more).
func TestRun_Rate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"success":true}`)
	}))
	defer srv.Close()
	const rate, concurrency = 40, 4
	res, err := Run(context.Background(), Config{Target: srv.URL, Key: "veil_sk_test", Mode: "events",
		Duration: 500 * time.Millisecond, Concurrency: concurrency, Batch: 1, EventSize: 100, Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	if most := int64(rate*res.Duration.Seconds()) + concurrency; res.OK == 0 || res.Requests > most {
		t.Errorf("%d requests (%d ok) in %s at %d/s, want 1…%d", res.Requests, res.OK, res.Duration, rate, most)
	}
}

// TestEventGen: a batch goes to /v1/batch with its events; a "batch" of
// one is a single track call to /v1/track. Message ids never repeat.
func TestEventGen(t *testing.T) {
	tests := []struct {
		batch    int
		wantPath string
	}{{1, "/v1/track"}, {2, "/v1/batch"}, {100, "/v1/batch"}}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.batch), func(t *testing.T) {
			gen := newEventGen(tt.batch, 600)
			ids := map[string]bool{}
			for w := range 2 {
				for n := range int64(3) {
					body, path, gz, events, decoded := gen(w, n)
					if path != tt.wantPath || gz || events != tt.batch || decoded != len(body) {
						t.Fatalf("gen = %s gzip %v, %d events, %d bytes", path, gz, events, decoded)
					}
					type msg struct{ Type, Event, MessageID, AnonymousID, Timestamp string }
					var msgs []msg
					if tt.batch == 1 {
						var m msg
						if err := json.Unmarshal(body, &m); err != nil {
							t.Fatal(err)
						}
						msgs = append(msgs, m)
					} else {
						var b struct{ Batch []msg }
						if err := json.Unmarshal(body, &b); err != nil {
							t.Fatal(err)
						}
						msgs = b.Batch
					}
					if len(msgs) != tt.batch {
						t.Fatalf("%d messages, want %d", len(msgs), tt.batch)
					}
					for _, m := range msgs {
						if m.Type != "track" || m.Event == "" || m.AnonymousID == "" || m.Timestamp == "" || ids[m.MessageID] {
							t.Fatalf("message %+v (id seen before: %v)", m, ids[m.MessageID])
						}
						ids[m.MessageID] = true
					}
				}
			}
		})
	}
}
