package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/blob/local"
	"github.com/veil-privacy/veil/internal/events"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/wal"
)

// env is a complete ingest path on real components: SQLite, local blobs,
// the write-ahead log, the scrubber and an HTTP server.
type env struct {
	t       testing.TB
	db      *store.DB
	dbPath  string // the SQLite file, for a second process's view
	blobs   blob.Bucket
	master  *keyring.Master
	log     *faultLog
	h       *ingest.Handler
	packer  *ingest.Packer
	srv     *httptest.Server
	project *provision.NewProject
	prov    *provision.Service
}

// faultLog wraps the real log so a test can make appends fail (disk full).
type faultLog struct {
	*wal.Log
	fail bool
}

func (f *faultLog) Append(ctx context.Context, recs ...[]byte) (wal.LSN, error) {
	if f.fail {
		return 0, wal.ErrUnavailable
	}
	return f.Log.Append(ctx, recs...)
}

func newEnv(t *testing.T, mod func(*ingest.Options)) *env { return newEnvTB(t, mod) }

func newEnvTB(t testing.TB, mod func(*ingest.Options)) *env {
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
	_, bench := t.(*testing.B) // benchmarks measure with fsync on
	wl, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{NoSync: !bench})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wl.Close() })
	e := &env{t: t, db: db, dbPath: filepath.Join(dir, "veil.db"), blobs: bl, master: keyring.NewMaster(), log: &faultLog{Log: wl}}
	e.prov = &provision.Service{Store: db, Master: e.master}
	e.project, err = e.prov.CreateProject(ctx, "acme", "shop", []string{"https://shop.example.com", "https://*.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	opts := ingest.Options{
		Store: db, Master: e.master, Log: e.log, Blobs: bl, Scrubber: scrub.MustNew(ingest.DefaultScrubRules()),
		ReplayScrubber: scrub.MustNew(ingest.DefaultReplayScrubRules()),
		Dedup:          events.NewDedup(events.DefaultDedupWindow, time.Now),
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&opts)
	}
	e.h = ingest.New(opts)
	mux := http.NewServeMux()
	e.h.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.packer = e.h.NewPacker(e.log, bl, "node-test")
	return e
}

type req struct {
	path    string
	body    string
	key     string // Basic auth user
	origin  string
	referer string
	headers map[string]string
	gzip    bool
}

type resp struct {
	status int
	body   string
	header http.Header
}

func (e *env) do(r req) resp {
	e.t.Helper()
	var body io.Reader = strings.NewReader(r.body)
	if r.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(r.body))
		zw.Close()
		body = &buf
	}
	hr, _ := http.NewRequest(http.MethodPost, e.srv.URL+r.path, body)
	hr.Header.Set("Content-Type", "application/json")
	if r.gzip {
		hr.Header.Set("Content-Encoding", "gzip")
	}
	if r.key != "" {
		hr.SetBasicAuth(r.key, "")
	}
	if r.origin != "" {
		hr.Header.Set("Origin", r.origin)
	}
	if r.referer != "" {
		hr.Header.Set("Referer", r.referer)
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, string(b), res.Header}
}

// pack runs packer rounds until the log is drained.
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

// storedEvents exports the project's stored events, decrypted.
func (e *env) storedEvents() []map[string]any {
	e.t.Helper()
	var buf bytes.Buffer
	rd := ingest.NewReader(e.db, e.blobs, e.master)
	if _, err := rd.Events(context.Background(), e.project.ProjectID, time.Time{}, time.Time{}, &buf); err != nil {
		e.t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			e.t.Fatalf("stored line is not JSON: %v", err)
		}
		out = append(out, m)
	}
	return out
}

func errCode(t *testing.T, body string) string {
	t.Helper()
	var eb struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("not a JSON error body: %q", body)
	}
	return eb.Error.Code
}

var _ = errors.New
var _ = veil.ErrorCode

func ingestReader(e *env) *ingest.Reader { return ingest.NewReader(e.db, e.blobs, e.master) }
