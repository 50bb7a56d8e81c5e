package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/store/storetest"
	"github.com/veil-privacy/veil/internal/testenv"
	"github.com/veil-privacy/veil/internal/webhook"
)

// clock is a settable clock; retries never wait for real.
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

type env struct {
	path    string
	db      *store.DB
	clk     *clock
	key     *keyring.DataKey
	svc     *webhook.Service
	project *veil.Project
}

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopAll()
	os.Exit(code)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAt(t, filepath.Join(t.TempDir(), "veil.db"))
}

// dialects runs fn on SQLite and on Postgres (skipped without Postgres
// unless CI=true).
func dialects(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newEnvAt(t, testenv.Postgres(t))) })
}

// newEnvAt opens dsn (a SQLite path or a Postgres URL).
func newEnvAt(t *testing.T, dsn string) *env {
	t.Helper()
	e := &env{path: dsn, key: keyring.NewDataKey(), clk: &clock{t: time.Now().Truncate(time.Microsecond)}} // real time: receivers check timestamps
	e.open(t)
	org := storetest.MustCreateOrg(t, e.db, "o")
	e.project = storetest.MustCreateProject(t, e.db, org.ID, "p")
	return e
}

// open (re)opens the database file, as a restarted server would.
func (e *env) open(t *testing.T) {
	t.Helper()
	db, err := store.Open(context.Background(), e.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Now = e.clk.Now
	e.db = db
	e.svc = &webhook.Service{Store: db, Key: e.key, AllowPrivate: true, Now: e.clk.Now}
}

func (e *env) worker(allowPrivate bool) *webhook.Worker {
	return &webhook.Worker{Queue: e.db, Key: e.key, AllowPrivate: allowPrivate, Now: e.clk.Now,
		Jitter: func(d time.Duration) time.Duration { return d }, Timeout: 5 * time.Second}
}

func (e *env) endpoint(t *testing.T, url string, types ...string) (*veil.WebhookEndpoint, string) {
	t.Helper()
	ep, secret, err := e.svc.Create(context.Background(), e.project.ID, webhook.EndpointInput{URL: url, EventTypes: types})
	if err != nil {
		t.Fatal(err)
	}
	return ep, secret
}

func (e *env) emit(t *testing.T, typ string) []string {
	t.Helper()
	ids, err := e.db.EmitWebhookEvent(context.Background(), veil.WebhookEvent{ProjectID: e.project.ID, Type: typ,
		Data: map[string]string{"project_id": e.project.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func (e *env) message(t *testing.T, id string) *veil.WebhookMessage {
	t.Helper()
	m, err := e.db.FindWebhookMessage(context.Background(), e.project.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// receiver records every request and answers with the status codes in
// order (the last one repeats).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	codes    []int
	requests []*http.Request
	bodies   [][]byte
}

func newReceiver(t *testing.T, codes ...int) *receiver {
	r := &receiver{codes: codes}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests = append(r.requests, req)
		r.bodies = append(r.bodies, b)
		code := r.codes[min(len(r.requests), len(r.codes))-1]
		r.mu.Unlock()
		w.WriteHeader(code)
		io.WriteString(w, strings.Repeat("x", 1000))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

func runOnce(t *testing.T, w *webhook.Worker) int {
	t.Helper()
	n, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeliver_OfficialLibraryVerifies(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, 200)
	_, secret := e.endpoint(t, rc.URL, webhook.KeyRevoked)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	if ids := e.emit(t, webhook.SessionStarted); len(ids) != 0 {
		t.Fatalf("unsubscribed type queued %v", ids)
	}
	ids := e.emit(t, webhook.KeyRevoked)
	if n := runOnce(t, e.worker(true)); n != 1 {
		t.Fatalf("attempted %d", n)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(rc.bodies[0], rc.requests[0].Header); err != nil {
		t.Fatalf("official library rejects the message: %v", err)
	}
	if got := rc.requests[0].Header.Get("webhook-id"); got != ids[0] {
		t.Fatalf("webhook-id %q, want %q", got, ids[0])
	}
	var p struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(rc.bodies[0], &p); err != nil || p.Type != webhook.KeyRevoked {
		t.Fatalf("payload %s (%v)", rc.bodies[0], err)
	}
	m := e.message(t, ids[0])
	if m.Status != veil.WebhookDelivered || m.Attempts != 1 || m.LastStatus != 200 {
		t.Fatalf("message %+v", m)
	}
	as, err := e.db.ListWebhookAttempts(context.Background(), m.ID)
	if err != nil || len(as) != 1 || as[0].StatusCode != 200 || len(as[0].Excerpt) > 128 {
		t.Fatalf("attempts %+v, %v", as, err)
	}
	// A wrong secret does not verify.
	other, _ := standardwebhooks.NewWebhook(webhook.NewSecret())
	if other.Verify(rc.bodies[0], rc.requests[0].Header) == nil {
		t.Fatal("verified with another secret")
	}
}

func TestRotation_BothSecretsVerifyDuringOverlap(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, 200)
	ep, oldSecret := e.endpoint(t, rc.URL)
	_, newSecret, err := e.svc.Rotate(context.Background(), e.project.ID, ep.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.emit(t, webhook.ExportCompleted)
	runOnce(t, e.worker(true))
	for name, s := range map[string]string{"old": oldSecret, "new": newSecret} {
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.Verify(rc.bodies[0], rc.requests[0].Header); err != nil {
			t.Errorf("%s secret does not verify during the overlap: %v", name, err)
		}
	}
	if n := len(strings.Fields(rc.requests[0].Header.Get("webhook-signature"))); n != 2 {
		t.Errorf("%d signatures during overlap, want 2", n)
	}
	// After the overlap only the new secret signs.
	e.clk.Advance(time.Hour + time.Second)
	e.emit(t, webhook.ExportCompleted)
	runOnce(t, e.worker(true))
	oldWH, _ := standardwebhooks.NewWebhook(oldSecret)
	newWH, _ := standardwebhooks.NewWebhook(newSecret)
	if err := newWH.VerifyIgnoringTimestamp(rc.bodies[1], rc.requests[1].Header); err != nil {
		t.Errorf("new secret: %v", err)
	}
	if oldWH.VerifyIgnoringTimestamp(rc.bodies[1], rc.requests[1].Header) == nil {
		t.Error("old secret still verifies after the overlap")
	}
}

// deliverAll runs the worker, jumping the clock to each retry, until no
// message is pending or rounds run out.
func deliverAll(t *testing.T, e *env, w *webhook.Worker, id string, rounds int) *veil.WebhookMessage {
	t.Helper()
	for range rounds {
		runOnce(t, w)
		m := e.message(t, id)
		if m.Status != veil.WebhookPending {
			return m
		}
		e.clk.Advance(m.NextAttemptAt.Sub(e.clk.Now()))
	}
	return e.message(t, id)
}

func TestRetry_FailsThenSucceedsOnce(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, 500, 503, 502, 404, 200)
	_, secret := e.endpoint(t, rc.URL)
	id := e.emit(t, webhook.RecordingPushed)[0]
	start := e.clk.Now()
	m := deliverAll(t, e, e.worker(true), id, 10)
	if m.Status != veil.WebhookDelivered || m.Attempts != 5 || rc.count() != 5 {
		t.Fatalf("message %+v after %d requests", m, rc.count())
	}
	// Immediately, then 5 s, 5 min, 30 min, 2 h later.
	if got, want := e.clk.Now().Sub(start), 5*time.Second+5*time.Minute+30*time.Minute+2*time.Hour; got != want {
		t.Errorf("delivered after %s, want %s", got, want)
	}
	wh, _ := standardwebhooks.NewWebhook(secret)
	for i, r := range rc.requests {
		if got := r.Header.Get("webhook-id"); got != id {
			t.Errorf("attempt %d: webhook-id %q, want %q", i+1, got, id)
		}
		if err := wh.VerifyIgnoringTimestamp(rc.bodies[i], r.Header); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
	}
	// Nothing more is sent.
	e.clk.Advance(24 * time.Hour)
	if n := runOnce(t, e.worker(true)); n != 0 || rc.count() != 5 {
		t.Fatalf("%d more attempts", n)
	}
}

func TestRetry_GivesUpAfterSchedule(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, 500)
	e.endpoint(t, rc.URL)
	id := e.emit(t, webhook.RecordingPushed)[0]
	m := deliverAll(t, e, e.worker(true), id, 20)
	if m.Status != veil.WebhookFailed || m.Attempts != len(webhook.Schedule)+1 {
		t.Fatalf("message %+v", m)
	}
}

func TestRestart_MidRetryLosesNothing(t *testing.T) { dialects(t, testRestart) }

func testRestart(t *testing.T, e *env) {
	rc := newReceiver(t, 500, 500, 200)
	e.endpoint(t, rc.URL)
	id := e.emit(t, webhook.SessionEnded)[0]
	runOnce(t, e.worker(true))
	// "Restart": close the database, reopen the file, new worker.
	e.db.Close()
	e.open(t)
	m := deliverAll(t, e, e.worker(true), id, 10)
	if m.Status != veil.WebhookDelivered || rc.count() != 3 {
		t.Fatalf("message %+v after %d requests", m, rc.count())
	}
	for _, r := range rc.requests {
		if r.Header.Get("webhook-id") != id {
			t.Fatal("webhook-id changed across the restart")
		}
	}
}

func TestCrash_LeaseExpiresAndAnotherWorkerDelivers(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, 200)
	e.endpoint(t, rc.URL)
	id := e.emit(t, webhook.UserErased)[0]
	// A worker claims the message and dies before sending.
	ds, err := e.db.ClaimWebhookMessages(context.Background(), "dead", time.Minute, 10, 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	w := e.worker(true)
	if n := runOnce(t, w); n != 0 {
		t.Fatal("claimed a leased message")
	}
	e.clk.Advance(time.Minute)
	if n := runOnce(t, w); n != 1 || e.message(t, id).Status != veil.WebhookDelivered {
		t.Fatal("not delivered after the lease expired")
	}
	var rerr *veil.Error
	_, err = e.db.RecordWebhookResult(context.Background(), &veil.WebhookResult{Holder: "dead", Attempt: veil.WebhookAttempt{MessageID: id}})
	if veil.ErrorCode(err) != veil.ECONFLICT {
		t.Fatalf("late result from the dead worker: %v %v", err, rerr)
	}
}

func TestGone_DisablesEndpoint(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, 410)
	ep, _ := e.endpoint(t, rc.URL)
	id := e.emit(t, webhook.RecordingDeleted)[0]
	runOnce(t, e.worker(true))
	if m := e.message(t, id); m.Status != veil.WebhookFailed {
		t.Fatalf("message %+v", m)
	}
	got, _ := e.db.FindWebhookEndpoint(context.Background(), e.project.ID, ep.ID)
	if got.Enabled || !strings.Contains(got.DisabledReason, "410") {
		t.Fatalf("endpoint %+v", got)
	}
	if ids := e.emit(t, webhook.RecordingDeleted); len(ids) != 0 {
		t.Fatal("disabled endpoint still receives")
	}
}

func TestFailingForDays_DisablesEndpoint(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, 500)
	ep, _ := e.endpoint(t, rc.URL)
	w := e.worker(true)
	var logs syncBuf
	w.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	for i := 0; i < 8; i++ {
		e.emit(t, webhook.SessionStarted)
		runOnce(t, w)
		e.clk.Advance(24 * time.Hour)
	}
	got, _ := e.db.FindWebhookEndpoint(context.Background(), e.project.ID, ep.ID)
	if got.Enabled || !strings.Contains(got.DisabledReason, "No successful delivery") {
		t.Fatalf("endpoint %+v", got)
	}
	if n := strings.Count(logs.String(), "webhook endpoint disabled"); n != 1 {
		t.Fatalf("alert logged %d times, want once:\n%s", n, logs.String())
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPerEndpointConcurrency(t *testing.T) {
	e := newEnv(t)
	var inflight, peak atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		inflight.Add(-1)
	}))
	defer srv.Close()
	e.endpoint(t, srv.URL)
	for range 6 {
		e.emit(t, webhook.SessionStarted)
	}
	w := e.worker(true)
	w.PerEndpoint = 2
	done := make(chan int)
	go func() { n, _ := w.RunOnce(context.Background()); done <- n }()
	time.Sleep(50 * time.Millisecond) // let requests arrive (a real wait for a real server, not a retry delay)
	close(release)
	if n := <-done; n != 2 || peak.Load() > 2 {
		t.Fatalf("claimed %d, peak %d", n, peak.Load())
	}
}

// TestSSRF_RefusedByDefault: every non-public destination is refused with
// a clear error in the delivery log; the loopback listener is never
// contacted.
func TestSSRF_RefusedByDefault(t *testing.T) {
	e := newEnv(t)
	var hits atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) })}}
	srv.Start()
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	urls := map[string]string{
		"loopback v4":    srv.URL,
		"private 10/8":   "http://10.1.2.3/hook",
		"cloud metadata": "http://169.254.169.254/latest/meta-data/",
		"loopback v6":    "http://[::1]:" + itoa(port) + "/",
		"localhost name": "http://localhost:" + itoa(port) + "/",
	}
	strict := &webhook.Service{Store: e.db, Key: e.key}
	for name, u := range urls {
		// Saving is refused early for literal addresses and localhost.
		if _, _, err := strict.Create(context.Background(), e.project.ID, webhook.EndpointInput{URL: u}); veil.ErrorCode(err) != veil.EINVALID {
			t.Errorf("%s: create: %v, want EINVALID", name, err)
		}
	}
	// Endpoints saved when private targets were allowed (or a hostname that
	// resolves privately later) are still refused at connect time.
	ids := map[string]string{}
	for name, u := range urls {
		e.endpoint(t, u)
		_ = name
	}
	for _, id := range e.emit(t, webhook.Test) {
		m := e.message(t, id)
		ep, _ := e.db.FindWebhookEndpoint(context.Background(), e.project.ID, m.EndpointID)
		ids[ep.URL] = id
	}
	w := e.worker(false)
	if n := runOnce(t, w); n != len(urls) {
		t.Fatalf("attempted %d", n)
	}
	for name, u := range urls {
		as, err := e.db.ListWebhookAttempts(context.Background(), ids[u])
		if err != nil || len(as) != 1 {
			t.Fatalf("%s: %v %v", name, as, err)
		}
		if !strings.Contains(as[0].Error, "refused") || !strings.Contains(as[0].Error, "VEIL_WEBHOOK_ALLOW_PRIVATE") {
			t.Errorf("%s: delivery log error %q", name, as[0].Error)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("loopback contacted %d times", hits.Load())
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	e := newEnv(t)
	target := newReceiver(t, 200)
	rc := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer rc.Close()
	e.endpoint(t, rc.URL)
	id := e.emit(t, webhook.Test)[0]
	runOnce(t, e.worker(true))
	if m := e.message(t, id); m.Status != veil.WebhookPending || m.LastStatus != 307 || target.count() != 0 {
		t.Fatalf("message %+v, target hit %d", m, target.count())
	}
}

func TestSendTestAndResend(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, 200)
	ep, _ := e.endpoint(t, rc.URL, webhook.KeyRevoked) // test events go regardless of the filter
	m, err := e.svc.SendTest(context.Background(), e.project.ID, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	runOnce(t, e.worker(true))
	if err := e.db.ResendWebhookMessage(context.Background(), e.project.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	runOnce(t, e.worker(true))
	got := e.message(t, m.ID)
	if got.Status != veil.WebhookDelivered || got.Attempts != 2 || rc.count() != 2 ||
		rc.requests[0].Header.Get("webhook-id") != rc.requests[1].Header.Get("webhook-id") {
		t.Fatalf("message %+v, %d requests", got, rc.count())
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestSeveralWorkers: workers sharing one outbox (as on several nodes)
// deliver every message exactly once when receivers succeed.
func TestSeveralWorkers_EachMessageOnce(t *testing.T) { dialects(t, testSeveralWorkers) }

func testSeveralWorkers(t *testing.T, e *env) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	defer srv.Close()
	e.endpoint(t, srv.URL)
	e.endpoint(t, srv.URL+"/second")
	var want []string
	for range 20 {
		want = append(want, e.emit(t, webhook.SessionStarted)...)
	}
	var wg sync.WaitGroup
	for i := range 3 {
		w := e.worker(true)
		w.Holder, w.Batch = "node"+strconv.Itoa(i), 5
		wg.Go(func() {
			for {
				n, err := w.RunOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("message %s delivered %d times", id, seen[id])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d distinct messages, want %d", len(seen), len(want))
	}
}
