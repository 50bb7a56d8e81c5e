package ingest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/scrub"
)

// SegmentAAD binds a sealed replay segment to its session and sequence
// number; it is sealed once at ingest and stored as is in a pack.
func SegmentAAD(orgID, projectID, sessionID string, seq int64) keyring.AAD {
	return keyring.AAD{Org: orgID, Project: projectID, Kind: "segment", ID: sessionID + "/" + strconv.FormatInt(seq, 10)}
}

func segmentMetaAAD(orgID, projectID, recID string) keyring.AAD {
	return keyring.AAD{Org: orgID, Project: projectID, Kind: "wal-segment-meta", ID: recID}
}

// segmentMeta travels sealed in the log from ingest to the packer.
type segmentMeta struct {
	FirstTS   int64    `json:"first_ts"` // unix ms, as rrweb timestamps
	LastTS    int64    `json:"last_ts"`
	Events    int64    `json:"events"`
	Errors    int64    `json:"errors"`
	URLPath   string   `json:"url_path,omitempty"`
	UserAgent string   `json:"user_agent,omitempty"`
	UserIndex string   `json:"user_index,omitempty"`
	Pages     int64    `json:"pages,omitempty"` // Meta events: page loads and navigations
	Tags      []string `json:"tags,omitempty"`  // blind indexes of custom event names
	// SessionKey is the session's wrapped key, as in its row: the packer
	// restores a row lost in a power cut from it (the row is written
	// without an fsync of its own; this record is synced).
	SessionKey []byte   `json:"session_key,omitempty"`
	tagNames   []string // the names, until handleReplay indexes them
}

// Bounds of the custom event names a segment adds to its session's index.
const (
	maxSegmentTags = 32
	maxTagLen      = 200
)

// replayBody is the JSON a replay upload carries: rrweb events and page
// metadata. A bare JSON array of events is accepted too.
type replayBody struct {
	Events json.RawMessage `json:"events"`
	Meta   struct {
		URL    string `json:"url"`
		UserID string `json:"userId"`
	} `json:"meta"`
}

// rrwebEvent is the part of an rrweb event the summary reads.
type rrwebEvent struct {
	Type      int   `json:"type"`
	Timestamp int64 `json:"timestamp"`
	Data      struct {
		Href    string `json:"href"`   // Meta (4)
		Tag     string `json:"tag"`    // Custom (5)
		Plugin  string `json:"plugin"` // Plugin (6)
		Payload struct {
			Level string `json:"level"`
		} `json:"payload"`
	} `json:"data"`
}

const maxSessionIDLen = 64

// validSessionID accepts the ids SDKs generate (UUIDs, ULIDs, base32).
func validSessionID(s string) bool {
	if len(s) < 8 || len(s) > maxSessionIDLen {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// handleReplay handles "POST /v1/replay?session=SID&seq=N": authenticate →
// read within limits (bounded gunzip) → validate → scrub → seal with the
// session key → append to the log (durable) → 200. (project, session, seq)
// is idempotent: a repeated upload is acknowledged and stored once.
func (h *Handler) handleReplay(w http.ResponseWriter, r *http.Request, _ string) (*principal, error) {
	ctx := r.Context()
	q := r.URL.Query()
	sid := q.Get("session")
	if !validSessionID(sid) {
		return nil, veil.Errorf(veil.EINVALID, "Query parameter session must be 8-64 letters, digits, '-' or '_'.")
	}
	seq, err := strconv.ParseInt(q.Get("seq"), 10, 64)
	if err != nil || seq < 0 || seq > 1<<40 {
		return nil, veil.Errorf(veil.EINVALID, "Query parameter seq must be a non-negative integer.")
	}
	p, err := h.authenticate(ctx, r, "")
	if err != nil {
		return nil, err
	}
	if err := h.allowKey(p); err != nil {
		return p, err
	}
	clock := h.metrics.clock(kindReplayIdx)
	body, err := readBody(r, h.opts.ReplayLimits, "Replay segment")
	if err != nil {
		return p, err
	}
	defer releaseBody(body) // everything kept from it is copied (sealed) before the return
	clock.done(stageRead)
	sc, err := h.replayScrubber(ctx, p.project)
	if err != nil {
		return p, err
	}
	clean, meta, userID, err := h.readReplay(sc, body, r.UserAgent())
	if err != nil {
		return p, err
	}
	if userID != "" {
		meta.UserIndex = p.project.dek.BlindIndex("user_id", userID)
	}
	for _, name := range meta.tagNames {
		meta.Tags = append(meta.Tags, p.project.dek.BlindIndex(keyring.IndexCustomEvent, name))
	}
	clock.done(stageScrub)
	sk, wrapped, err := h.keys.sessionKey(ctx, p.project, sid, func(s *veil.Session) {
		s.FirstSeen = time.UnixMilli(meta.FirstTS)
		s.LastSeen = time.UnixMilli(meta.FirstTS)
	})
	if err != nil {
		return p, err
	}
	clock.done(stageSession)
	meta.SessionKey = wrapped
	rec := &record{kind: kindSegment, id: newRecordID(), orgID: p.project.orgID, projectID: p.project.id, sessionID: sid, seq: seq}
	// Sealed once and stored as is in a pack. S2 by default: zstd was the
	// largest cost of an upload after the scrubber (see docs/performance.md).
	seal := sk.SealS2
	if h.opts.ZstdSegments {
		seal = sk.SealFast
	}
	if rec.body, err = seal(clean, SegmentAAD(rec.orgID, rec.projectID, sid, seq)); err != nil {
		return p, fmt.Errorf("seal segment: %w", err)
	}
	mj, _ := json.Marshal(meta)
	if rec.meta, err = p.project.dek.SealS2(mj, segmentMetaAAD(rec.orgID, rec.projectID, rec.id)); err != nil {
		return p, fmt.Errorf("seal segment meta: %w", err)
	}
	clock.done(stageSeal)
	if err := h.append(ctx, rec.encode()); err != nil {
		return p, err
	}
	clock.done(stageLog)
	h.metrics.segments.Inc()
	h.metrics.bytes.WithLabelValues("replay").Add(float64(len(body)))
	return p, nil
}

// segmentSummary accumulates a segment's summary event by event.
type segmentSummary struct {
	m       segmentMeta
	href    string // the first Meta event's URL
	invalid error  // the first invalid event's error
}

func (s *segmentSummary) reset() { *s = segmentSummary{} }

// add counts one event. An invalid event is remembered, not returned, so
// that scanning (which may also delimit the events) goes on.
func (s *segmentSummary) add(e *rrwebEvent) error {
	if s.invalid != nil {
		return nil
	}
	if e.Timestamp <= 0 {
		s.invalid = veil.Errorf(veil.EINVALID, "Every rrweb event needs a positive timestamp.")
		return nil
	}
	m := &s.m
	m.Events++
	if m.FirstTS == 0 || e.Timestamp < m.FirstTS {
		m.FirstTS = e.Timestamp
	}
	if e.Timestamp > m.LastTS {
		m.LastTS = e.Timestamp
	}
	if e.Type == 4 {
		m.Pages++
		if s.href == "" {
			s.href = e.Data.Href
		}
	}
	if e.Type == 5 && e.Data.Tag != "" && len(e.Data.Tag) <= maxTagLen && len(m.tagNames) < maxSegmentTags &&
		!slices.Contains(m.tagNames, e.Data.Tag) {
		m.tagNames = append(m.tagNames, e.Data.Tag)
	}
	if e.Type == 6 && strings.HasPrefix(e.Data.Plugin, "rrweb/console") && e.Data.Payload.Level == "error" {
		m.Errors++
	}
	return nil
}

// summarize reads times, counts, errors and the page path from scrubbed
// rrweb events.
func (h *Handler) summarize(sc *scrub.Scrubber, events []byte, pageURL, ua string) (*segmentMeta, error) {
	var s segmentSummary
	err := scanEvents(events, s.add)
	if s.invalid != nil { // it came before any malformed JSON
		return nil, s.invalid
	}
	if err != nil {
		return nil, veil.Errorf(veil.EINVALID, "Replay events must be a JSON array of rrweb event objects.")
	}
	return h.finishSummary(sc, &s, pageURL, ua)
}

// finishSummary checks an accumulated summary and adds the page path
// (pageURL, else the first Meta event's) and the browser family.
func (h *Handler) finishSummary(sc *scrub.Scrubber, s *segmentSummary, pageURL, ua string) (*segmentMeta, error) {
	if s.invalid != nil {
		return nil, s.invalid
	}
	m := s.m
	if m.Events == 0 {
		return nil, veil.Errorf(veil.EINVALID, "Replay segment has no events.")
	}
	m.UserAgent = uaFamily(ua)
	if pageURL == "" {
		pageURL = s.href
	}
	if u, err := url.Parse(pageURL); err == nil && u.Path != "" {
		path, _ := sc.Text(u.Path) // paths can carry e-mails or ids
		if len(path) > 512 {
			path = path[:512]
		}
		m.URLPath = path
	}
	return &m, nil
}

// sameBytes reports whether a and b are the same bytes in memory (the
// scrubber returns its input itself when it redacted nothing).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// uaFamily reduces a User-Agent to a browser family: enough to filter by,
// too coarse to fingerprint.
func uaFamily(ua string) string {
	switch {
	case ua == "":
		return ""
	case strings.Contains(ua, "Edg/"):
		return "Edge"
	case strings.Contains(ua, "OPR/"):
		return "Opera"
	case strings.Contains(ua, "Firefox/"):
		return "Firefox"
	case strings.Contains(ua, "HeadlessChrome"):
		return "Headless Chrome"
	case strings.Contains(ua, "Chrome/") || strings.Contains(ua, "Chromium/"):
		return "Chrome"
	case strings.Contains(ua, "Safari/"):
		return "Safari"
	case strings.Contains(strings.ToLower(ua), "bot"):
		return "Bot"
	}
	return "Other"
}
