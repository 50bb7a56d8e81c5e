package lifecycle_test

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

	"github.com/prometheus/client_golang/prometheus"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/blob/local"
	"github.com/veil-privacy/veil/internal/events"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/wal"
)

// env is real storage (SQLite, local blobs) filled through the real ingest
// path, with a lifecycle service on a fake clock.
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
	svc     *lifecycle.Service
	reg     *prometheus.Registry
}

// day0 is when the test data was recorded.
var day0 = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "veil.db"))
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
	e := &env{t: t, dir: dir, db: db, blobs: bl, master: keyring.NewMaster(), reg: prometheus.NewRegistry()}
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
	e.clock = &clock{t: day0}
	db.Now = e.clock.Now
	al := &audit.Log{Store: db, Now: e.clock.Now}
	e.svc = &lifecycle.Service{Store: db, Blobs: bl, Master: e.master, Audit: al, Now: e.clock.Now,
		Logger: quiet, Metrics: lifecycle.NewMetrics(e.reg), BatchSize: 2}
	return e
}

func (e *env) post(path, body string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(e.project.ServerKey, "")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		e.t.Fatalf("POST %s: %d %s", path, res.StatusCode, b)
	}
}

// replay uploads one segment of session sid recorded at t.
func (e *env) replay(sid string, seq int, user string, at time.Time) {
	e.t.Helper()
	ms := at.UnixMilli()
	body := fmt.Sprintf(`{"events":[{"type":4,"timestamp":%d,"data":{"href":"https://shop.example.com/cart"}},
		{"type":3,"timestamp":%d,"data":{"source":2,"type":2,"id":7,"marker":"segment-%s-%d"}}],"meta":{"userId":%q}}`,
		ms, ms+500, sid, seq, user)
	e.post(fmt.Sprintf("/v1/replay?session=%s&seq=%d", sid, seq), body)
}

// track stores one message for user (userId) at t.
func (e *env) track(user, anon, event string, at time.Time) {
	e.t.Helper()
	e.post("/v1/track", fmt.Sprintf(`{"type":"track","event":%q,"userId":%q,"anonymousId":%q,"timestamp":%q}`,
		event, user, anon, at.Format(time.RFC3339)))
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

func (e *env) reader() *ingest.Reader { return ingest.NewReader(e.db, e.blobs, e.master) }

// replayText exports a session, or returns the error.
func (e *env) replayText(sid string) (string, error) {
	var buf bytes.Buffer
	_, err := e.reader().Replay(context.Background(), e.project.ProjectID, sid, &buf)
	return buf.String(), err
}

// eventsText exports every stored event as JSON lines.
func (e *env) eventsText() string {
	e.t.Helper()
	var buf bytes.Buffer
	if _, err := e.reader().Events(context.Background(), e.project.ProjectID, time.Time{}, time.Time{}, &buf); err != nil {
		e.t.Fatal(err)
	}
	return buf.String()
}

// blobDirContains reports whether any file under the blob directory holds b.
func (e *env) blobDirContains(b []byte) bool {
	e.t.Helper()
	found := false
	filepath.WalkDir(filepath.Join(e.dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(data, b) {
			found = true
		}
		return nil
	})
	return found
}

// auditActions lists the recorded audit actions in order.
func (e *env) auditActions() []string {
	e.t.Helper()
	var out []string
	err := (&audit.Log{Store: e.db}).Each(context.Background(), "", func(a *veil.AuditEntry) error {
		out = append(out, a.Action)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// clock is a settable fake clock: tests never sleep.
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
