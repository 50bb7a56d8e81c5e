package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/netguard"
)

// Queue is the outbox the Worker drains (store.DB implements it).
type Queue interface {
	// ClaimWebhookMessages leases due messages to holder for ttl; see
	// store.DB.ClaimWebhookMessages.
	ClaimWebhookMessages(ctx context.Context, holder string, ttl time.Duration, limit, perEndpoint int) ([]veil.WebhookDelivery, error)
	// RecordWebhookResult records an attempt and reports whether it
	// disabled the endpoint; ECONFLICT if the lease was lost.
	RecordWebhookResult(ctx context.Context, r *veil.WebhookResult) (disabled bool, err error)
}

// Schedule is the delay before each retry: the first attempt is
// immediate, then these follow (about 17.6 hours in all), then the message
// fails.
var Schedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour}

// DisableAfter is how long an endpoint may fail (no success at all) before
// it is disabled with an alert.
const DisableAfter = 5 * 24 * time.Hour

// excerptLen bounds the response body excerpt kept in the delivery log.
const excerptLen = 128

// Worker delivers due messages. Several workers (in one process or many)
// may share one Queue: leases keep a message with one worker at a time.
type Worker struct {
	Queue Queue
	Key   *keyring.DataKey // opens endpoint secrets
	// Holder names this worker in leases; unique per worker.
	Holder string
	// AllowPrivate lets deliveries reach private and loopback addresses.
	AllowPrivate bool
	// Timeout bounds one attempt (default 15 s).
	Timeout time.Duration
	// Batch is how many messages are claimed and sent at once (default
	// 16); PerEndpoint is the most in flight to one endpoint (default 4).
	Batch, PerEndpoint int
	// Poll is the wait between empty claims in Run (default 1 s).
	Poll time.Duration
	// Now and Jitter are injectable for tests. Jitter returns the actual
	// delay for a scheduled one (default ±20 %).
	Now     func() time.Time
	Jitter  func(time.Duration) time.Duration
	Metrics *Metrics
	Logger  *slog.Logger

	once   sync.Once
	client *http.Client
}

// Metrics counts deliveries by outcome.
type Metrics struct {
	attempts *prometheus.CounterVec
	disabled prometheus.Counter
	latency  prometheus.Histogram
}

// Backlog reports the outbox backlog (store.DB implements it).
type Backlog interface {
	CountPendingWebhookMessages(ctx context.Context) (int, *time.Time, error)
}

// RegisterBacklog registers veil_webhook_pending_messages and
// veil_webhook_oldest_pending_seconds on reg, read from b at each scrape
// (a growing age means deliveries are stuck: alert on it).
func RegisterBacklog(reg prometheus.Registerer, b Backlog, now func() time.Time) {
	read := func() (int, *time.Time) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, oldest, err := b.CountPendingWebhookMessages(ctx)
		if err != nil {
			return -1, nil
		}
		return n, oldest
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "veil_webhook_pending_messages",
			Help: "Webhook messages waiting for delivery (the outbox backlog; -1 if the store could not be read)."},
			func() float64 { n, _ := read(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "veil_webhook_oldest_pending_seconds",
			Help: "Age of the oldest webhook message waiting for delivery (0 when none)."},
			func() float64 {
				if _, oldest := read(); oldest != nil {
					return now().Sub(*oldest).Seconds()
				}
				return 0
			}),
	)
}

// NewMetrics registers the webhook metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "veil_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome (delivered, retry, failed, blocked).",
		}, []string{"outcome"}),
		disabled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "veil_webhook_endpoints_disabled_total", Help: "Webhook endpoints disabled automatically (410 Gone or failing for days).",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "veil_webhook_attempt_duration_seconds", Help: "Webhook attempt latency.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.attempts, m.disabled, m.latency)
	}
	return m
}

func (w *Worker) init() {
	w.once.Do(func() {
		if w.Timeout <= 0 {
			w.Timeout = 15 * time.Second
		}
		if w.Batch <= 0 {
			w.Batch = 16
		}
		if w.PerEndpoint <= 0 {
			w.PerEndpoint = 4
		}
		if w.Poll <= 0 {
			w.Poll = time.Second
		}
		if w.Now == nil {
			w.Now = time.Now
		}
		if w.Jitter == nil {
			w.Jitter = func(d time.Duration) time.Duration { return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64())) }
		}
		if w.Logger == nil {
			w.Logger = slog.Default()
		}
		if w.Holder == "" {
			w.Holder = veil.NewID("whw")
		}
		w.client = NewClient(w.AllowPrivate, w.Timeout)
	})
}

// Guard is the SSRF guard of webhook deliveries (internal/netguard);
// allowPrivate is the operator's VEIL_WEBHOOK_ALLOW_PRIVATE.
func Guard(allowPrivate bool) *netguard.Guard {
	return &netguard.Guard{What: "webhooks", Env: "VEIL_WEBHOOK_ALLOW_PRIVATE", Allow: allowPrivate}
}

// NewClient returns the delivery HTTP client: no proxy, no redirects,
// timeout per request, and (unless allowPrivate) refusing non-public
// addresses at connect time.
func NewClient(allowPrivate bool, timeout time.Duration) *http.Client {
	d := Guard(allowPrivate).Dialer(10 * time.Second)
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would connect on our behalf, past the address check
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Run delivers until ctx ends, polling the queue every Poll when it is
// empty.
func (w *Worker) Run(ctx context.Context) {
	w.init()
	for ctx.Err() == nil {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Logger.Warn("webhook delivery round failed", "err", err)
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(w.Poll):
			}
		}
	}
}

// RunOnce claims one batch of due messages, delivers them concurrently
// and waits for all; it returns how many it attempted.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.init()
	ttl := 2*w.Timeout + 30*time.Second
	ds, err := w.Queue.ClaimWebhookMessages(ctx, w.Holder, ttl, w.Batch, w.PerEndpoint)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ds))
	for i, d := range ds {
		wg.Go(func() { errs[i] = w.deliver(ctx, d) })
	}
	wg.Wait()
	return len(ds), errors.Join(errs...)
}

// deliver makes one attempt and records it.
func (w *Worker) deliver(ctx context.Context, d veil.WebhookDelivery) error {
	m, e := d.Message, d.Endpoint
	now := w.Now()
	a := veil.WebhookAttempt{MessageID: m.ID, At: now}
	res := &veil.WebhookResult{Holder: w.Holder}
	outcome := "retry"
	status, err := w.post(ctx, e, m, now, &a)
	switch {
	case err != nil:
		var be *netguard.BlockedError
		if errors.As(err, &be) {
			a.Error, outcome = be.Error(), "blocked"
		} else {
			a.Error = err.Error()
		}
	case status >= 200 && status < 300:
		res.Delivered, outcome = true, "delivered"
	case status == http.StatusGone:
		res.DisableEndpoint = "The endpoint answered 410 Gone."
	}
	if !res.Delivered {
		if res.DisableEndpoint == "" && e.FailingSince != nil && now.Sub(*e.FailingSince) >= DisableAfter {
			res.DisableEndpoint = fmt.Sprintf("No successful delivery since %s.", e.FailingSince.UTC().Format(time.RFC3339))
		}
		if res.DisableEndpoint == "" && m.Tries < len(Schedule) {
			next := now.Add(w.Jitter(Schedule[m.Tries]))
			res.NextAttemptAt = &next
		}
		if res.NextAttemptAt == nil {
			outcome = "failed"
		}
	}
	res.Attempt = a
	if w.Metrics != nil {
		w.Metrics.attempts.WithLabelValues(outcome).Inc()
		w.Metrics.latency.Observe(float64(a.LatencyMS) / 1000)
	}
	disabled, err := w.Queue.RecordWebhookResult(context.WithoutCancel(ctx), res)
	if err != nil {
		return fmt.Errorf("record webhook attempt %s: %w", m.ID, err)
	}
	if disabled {
		// The alert, once per disabling: operators watch error logs and
		// veil_webhook_endpoints_disabled_total.
		w.Logger.Error("webhook endpoint disabled", "project_id", e.ProjectID, "endpoint_id", e.ID, "reason", res.DisableEndpoint)
		if w.Metrics != nil {
			w.Metrics.disabled.Inc()
		}
	}
	return nil
}

// post sends m to e once and fills a's status, latency and excerpt.
func (w *Worker) post(ctx context.Context, e *veil.WebhookEndpoint, m *veil.WebhookMessage, now time.Time, a *veil.WebhookAttempt) (int, error) {
	secrets, err := Secrets(w.Key, e, now)
	if err != nil {
		return 0, err
	}
	sig, err := signatureHeader(secrets, m.ID, now, m.Payload)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(m.Payload))
	if err != nil {
		return 0, fmt.Errorf("invalid endpoint URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Veil-Webhooks/1")
	req.Header.Set("webhook-id", m.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	start := time.Now()
	resp, err := w.client.Do(req)
	a.LatencyMS = time.Since(start).Milliseconds()
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, excerptLen))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	a.StatusCode, a.Excerpt = resp.StatusCode, excerpt(b)
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		a.Error = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// excerpt keeps the valid UTF-8 start of b.
func excerpt(b []byte) string {
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return string(b)
}
