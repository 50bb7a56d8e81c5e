package ingest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/events"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/scrub/scrubmetrics"
	"github.com/veil-privacy/veil/internal/wal"
)

// Store is what ingest needs from the metadata store.
type Store interface {
	FindKeyByPrefix(ctx context.Context, prefix string) (*veil.WriteKey, error)
	FindProjectByID(ctx context.Context, id string) (*veil.Project, error)
	FindSession(ctx context.Context, projectID, id string) (*veil.Session, error)
	CreateSessionDeferred(ctx context.Context, s *veil.Session) error
	CommitPack(ctx context.Context, c *veil.PackCommit) (int, error)
	FindCheckpoint(ctx context.Context, nodeID string) (uint64, error)
	ListSegments(ctx context.Context, projectID, sessionID string) ([]*veil.Segment, error)
	ListEventBatches(ctx context.Context, projectID string, since, until time.Time) ([]*veil.EventBatch, error)
	ListProjects(ctx context.Context, orgID string) ([]*veil.Project, error)
}

// Log is the write-ahead log (*wal.Log): Append returns once records are
// durable; the packer replays and trims it.
type Log interface {
	Append(ctx context.Context, recs ...[]byte) (wal.LSN, error)
	Replay(from wal.LSN, fn func(lsn wal.LSN, rec []byte) error) error
	Trim(upTo wal.LSN) error
}

// Options configure a Handler.
type Options struct {
	Store    Store
	Master   *keyring.Master
	Log      Log
	Blobs    blob.Bucket     // read by RestoreDedup
	Scrubber *scrub.Scrubber // used when Settings is nil
	// ReplayScrubber scrubs replay segments when Settings is nil (nil:
	// Scrubber); DefaultReplayScrubRules matches Scrubber's defaults.
	ReplayScrubber *scrub.Scrubber
	// Settings, when set, gives each project its stored scrubbing rules
	// (compiled once, cached; see rules.go) and serves the SDK config.
	Settings Settings
	// RulesTTL bounds how stale a cached project scrubber may be when its
	// rules are changed by another node (default DefaultRulesTTL).
	RulesTTL time.Duration
	// ScrubMetrics counts redactions per detector (optional).
	ScrubMetrics *scrubmetrics.Metrics
	Dedup        *events.Dedup
	Logger       *slog.Logger
	Now          func() time.Time

	EventLimits  events.Limits
	ReplayLimits BodyLimits
	// RatePerKey and RatePerIP are requests per second (0 = unlimited).
	RatePerKey, RatePerIP float64
	// ZstdSegments seals replay segments with zstd (about 30 % smaller)
	// instead of S2 (about a fifth of the CPU on the request path).
	ZstdSegments bool
	// KeyTTL bounds how long a write key read from the store is used from
	// memory (default DefaultKeyTTL; negative: read it on every request).
	KeyTTL time.Duration
	// MaxSessionKeys bounds the cache of active sessions' keys.
	MaxSessionKeys int
	Metrics        *Metrics
}

// Handler serves the ingest endpoints.
type Handler struct {
	opts  Options
	store Store
	blobs blob.Bucket
	keys  *keyCache
	// writeKeys caches write keys by prefix (keyauth.go).
	writeKeys *writeKeys
	log       *slog.Logger
	now       func() time.Time
	byKey     *limiter
	byIP      *limiter
	metrics   *Metrics
	rules     *scrubbers // nil without Options.Settings
}

// New returns a Handler. Register its routes with Register.
func New(o Options) *Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.EventLimits == (events.Limits{}) {
		o.EventLimits = events.DefaultLimits()
	}
	if o.ReplayLimits == (BodyLimits{}) {
		o.ReplayLimits = BodyLimits{MaxCompressed: 4 << 20, MaxDecoded: 16 << 20}
	}
	if o.KeyTTL == 0 {
		o.KeyTTL = DefaultKeyTTL
	}
	if o.MaxSessionKeys == 0 {
		o.MaxSessionKeys = 100_000
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	h := &Handler{
		opts: o, store: o.Store, blobs: o.Blobs, log: o.Logger, now: o.Now, metrics: o.Metrics,
		keys:      newKeyCache(o.Store, o.Master, o.MaxSessionKeys),
		writeKeys: newWriteKeys(o.Store, o.KeyTTL, o.Now),
		byKey:     newLimiter(o.RatePerKey, int(2*o.RatePerKey), 100_000),
		byIP:      newLimiter(o.RatePerIP, int(2*o.RatePerIP), 100_000),
	}
	if o.Settings != nil {
		h.rules = newScrubbers(o.Settings, o.RulesTTL, o.Now)
	}
	return h
}

// Mux is the subset of http.ServeMux Register needs.
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Register mounts the ingest routes.
func (h *Handler) Register(mux Mux) {
	for _, kind := range []string{"track", "identify", "page", "screen", "group", "alias", "batch", "import"} {
		mux.Handle("POST /v1/"+kind, h.wrap(kind, h.handleEvents))
		mux.Handle("OPTIONS /v1/"+kind, http.HandlerFunc(h.handlePreflight))
	}
	mux.Handle("POST /v1/replay", h.wrap("replay", h.handleReplay))
	mux.Handle("OPTIONS /v1/replay", http.HandlerFunc(h.handlePreflight))
	mux.Handle("GET /v1/sdk/config", http.HandlerFunc(h.handleSDKConfig))
}

// handlerFunc returns the principal it authenticated (for CORS headers on
// the answer) and an error.
type handlerFunc func(w http.ResponseWriter, r *http.Request, kind string) (*principal, error)

// wrap applies the per-IP limit, runs fn, and writes errors as JSON with
// CORS headers when the caller was an authenticated, allowed browser.
func (h *Handler) wrap(kind string, fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := h.byIP.allow(clientIP(r)); !ok {
			h.fail(w, r, nil, rateLimited(wait))
			return
		}
		p, err := fn(w, r, kind)
		if err != nil {
			h.fail(w, r, p, err)
			return
		}
		h.cors(w, r, p)
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	})
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, p *principal, err error) {
	if r.Context().Err() != nil {
		// The client went away before its data was acknowledged (nothing
		// was stored): not a server failure to log or to alert on as 503.
		h.metrics.rejected.WithLabelValues(codeClientClosed).Inc()
		writeError(w, veil.Errorf(veil.EUNAVAILABLE, "Request cancelled by the client; nothing was stored."))
		return
	}
	code := veil.ErrorCode(err)
	if code == veil.EINTERNAL {
		h.log.Error("ingest request failed", "route", r.Pattern, "err", err)
	}
	h.metrics.rejected.WithLabelValues(code).Inc()
	h.cors(w, r, p)
	writeError(w, err)
}

// codeClientClosed labels, in veil_ingest_rejected_total, requests whose
// client disconnected or timed out before they were acknowledged.
const codeClientClosed = "client_closed"

func rateLimited(wait time.Duration) error {
	return &retryError{err: veil.Errorf(veil.ERATELIMITED, "Rate limit exceeded; retry later."), after: wait}
}

// retryError carries a Retry-After hint with a veil error.
type retryError struct {
	err   *veil.Error
	after time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

func retryAfterSeconds(err error) (string, bool) {
	var re *retryError
	if !errors.As(err, &re) {
		return "", false
	}
	s := int(re.after.Seconds() + 0.999)
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(s), true
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
