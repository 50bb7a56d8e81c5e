package destination_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/blob/local"
	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/events"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/testenv"
	"github.com/veil-privacy/veil/internal/wal"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopS3()
	testenv.StopAll()
	os.Exit(code)
}

// env is real storage (SQLite, local blobs, the write-ahead log) filled
// through the real ingest path, with a destination service on a fake clock.
type env struct {
	t       *testing.T
	dir     string
	db      *store.DB
	blobs   *local.Bucket
	master  *keyring.Master
	srv     *httptest.Server
	packer  *ingest.Packer
	project *provision.NewProject
	clock   *clock
	svc     *destination.Service
	life    *lifecycle.Service
}

func newEnv(t *testing.T) *env { t.Helper(); return newEnvOn(t, "") }

// dialects runs f on SQLite and on a real Postgres (testenv).
func dialects(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, "") })
	t.Run("postgres", func(t *testing.T) { f(t, testenv.Postgres(t)) })
}

// newEnvOn is newEnv on the database dsn ("" = SQLite in the data dir).
func newEnvOn(t *testing.T, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if dsn == "" {
		dsn = filepath.Join(dir, "veil.db")
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	bl, err := local.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	wl, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wl.Close() })
	e := &env{t: t, dir: dir, db: db, blobs: bl, master: keyring.NewMaster()}
	e.project, err = (&provision.Service{Store: db, Master: e.master}).CreateProject(ctx, "acme", "shop", nil)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := ingest.New(ingest.Options{Store: db, Master: e.master, Log: wl, Blobs: bl,
		Scrubber: scrub.MustNew(ingest.DefaultScrubRules()), Dedup: events.NewDedup(events.DefaultDedupWindow, time.Now), Logger: quiet})
	mux := http.NewServeMux()
	h.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.packer = h.NewPacker(wl, bl, "node-test")
	e.clock = &clock{t: time.Now().UTC()}
	db.Now = e.clock.Now // segment packing times and push times on one clock
	e.life = &lifecycle.Service{Store: db, Blobs: bl, Master: e.master, Logger: quiet}
	e.svc = &destination.Service{Store: db, Blobs: bl, Master: e.master, Logger: quiet, Now: e.clock.Now, AllowPrivate: true, // the test servers listen on 127.0.0.1
		NodeID: "node-test", Version: "test", Jitter: func() float64 { return 0.5 }, Timeout: 10 * time.Second,
		Compact: func(ctx context.Context) error { _, err := e.life.Compact(ctx, "node-test", 0); return err }}
	return e
}

// canary is recorded text that passes scrubbing and must never be found
// in Veil's data directory once a do_not_store push is done.
const canary = "ZebraQuokka7741"

// replay uploads one segment of session sid whose rrweb events carry the
// canary in a text node and in a custom event.
func (e *env) replay(sid string, seq int) {
	e.t.Helper()
	ms := time.Now().UnixMilli()
	body := fmt.Sprintf(`{"events":[{"type":4,"timestamp":%d,"data":{"href":"https://shop.example.com/cart","width":800,"height":600}},
		{"type":5,"timestamp":%d,"data":{"tag":"checkout","payload":{"note":"%s-%d"}}},
		{"type":3,"timestamp":%d,"data":{"source":0,"texts":[],"attributes":[],"removes":[],"adds":[{"parentId":1,"nextId":null,"node":{"type":3,"textContent":"%s text","id":9}}]}}]}`,
		ms, ms+100, canary, seq, ms+200, canary)
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/v1/replay?session=%s&seq=%d", e.srv.URL, sid, seq), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(e.project.ServerKey, "")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		e.t.Fatalf("POST replay: %d %s", res.StatusCode, b)
	}
}

func (e *env) pack() {
	e.t.Helper()
	for {
		n, err := e.packer.Round(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (e *env) replayText(sid string) (string, error) {
	var buf bytes.Buffer
	_, err := ingest.NewReader(e.db, e.blobs, e.master).Replay(context.Background(), e.project.ProjectID, sid, &buf)
	return buf.String(), err
}

// run does one push round after the idle timeout has passed.
func (e *env) run() *destination.RunResult {
	e.t.Helper()
	res, err := e.svc.RunOnce(context.Background())
	if err != nil {
		e.t.Logf("RunOnce: %v", err)
	}
	return res
}

// subscribe adds a webhook endpoint for every event type, so emitted
// events land in the outbox.
func (e *env) subscribe() string {
	e.t.Helper()
	ep := &veil.WebhookEndpoint{ProjectID: e.project.ProjectID, URL: "https://hooks.example.com/veil", Enabled: true,
		SealedSecret: []byte("sealed")}
	if err := e.db.CreateWebhookEndpoint(context.Background(), ep); err != nil {
		e.t.Fatal(err)
	}
	return ep.ID
}

// outbox returns the event types queued for endpoint ep, oldest first,
// with their payloads.
func (e *env) outbox(ep string) (types []string, payloads []string) {
	e.t.Helper()
	ms, err := e.db.ListWebhookMessages(context.Background(), e.project.ProjectID, ep, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := len(ms) - 1; i >= 0; i-- {
		types = append(types, ms[i].EventType)
		payloads = append(payloads, string(ms[i].Payload))
	}
	return types, payloads
}

// filesContaining lists files under root whose bytes contain s.
func filesContaining(t *testing.T, root string, s string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(s)) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// clock is a settable fake clock: tests never sleep for backoff.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
