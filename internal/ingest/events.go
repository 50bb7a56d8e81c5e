package ingest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/events"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/scrub"
)

// eventsAAD binds a log record's sealed messages to their project and record.
func eventsAAD(orgID, projectID, recID string) keyring.AAD {
	return keyring.AAD{Org: orgID, Project: projectID, Kind: "wal-events", ID: recID}
}

// handleEvents handles "POST /v1/{track,identify,page,screen,group,alias,
// batch,import}": read within limits → parse and validate (Segment spec) →
// authenticate → drop duplicate messageIds → scrub → seal → append to the
// log (durable) → 200.
func (h *Handler) handleEvents(w http.ResponseWriter, r *http.Request, kind string) (*principal, error) {
	ctx := r.Context()
	var p *principal
	var err error
	if _, _, ok := r.BasicAuth(); ok { // authenticate before spending CPU on the body
		if p, err = h.authenticate(ctx, r, ""); err != nil {
			return nil, err
		}
		if err := h.allowKey(p); err != nil {
			return p, err
		}
	}
	lim := h.opts.EventLimits
	clock := h.metrics.clock(kindEventsIdx)
	body, err := readBody(r, BodyLimits{MaxCompressed: int64(lim.MaxBatch), MaxDecoded: int64(lim.MaxBatch)}, "Request body")
	if err != nil {
		return p, err
	}
	defer releaseBody(body) // messages are scrubbed into a new buffer and ids copied before the return
	clock.done(stageRead)
	now := h.now()
	req, err := events.Parse(body, kind, now, lim)
	if err != nil {
		return p, err
	}
	if p == nil {
		if p, err = h.authenticate(ctx, r, req.WriteKey); err != nil {
			return nil, err
		}
		if err := h.allowKey(p); err != nil {
			return p, err
		}
	}

	sc, err := h.scrubber(ctx, p.project)
	if err != nil {
		return p, err
	}
	var buf bytes.Buffer
	buf.Grow(len(body) + 64)
	var minT, maxT time.Time
	fresh := make([]string, 0, len(req.Messages))
	// A repeated messageId inside one request is a duplicate too. (Two
	// concurrent requests with the same id can both be stored: the window
	// is checked before the write and filled after it, so that a failed
	// write never turns the client's retry into a "duplicate".)
	inBatch := make(map[string]bool, len(req.Messages))
	for i := range req.Messages {
		m := &req.Messages[i]
		if h.opts.Dedup != nil && h.opts.Dedup.Has(p.project.id, m.MessageID) || inBatch[m.MessageID] {
			h.metrics.events.WithLabelValues("duplicate").Inc()
			continue
		}
		inBatch[m.MessageID] = true
		clean, rep, err := sc.JSON(m.JSON)
		if err != nil {
			return p, veil.Errorf(veil.EINVALID, "Message %d could not be scrubbed: %s", i, veil.ErrorMessage(err))
		}
		h.observe(rep)
		buf.Write(clean)
		buf.WriteByte('\n')
		fresh = append(fresh, m.MessageID)
		if minT.IsZero() || m.Timestamp.Before(minT) {
			minT = m.Timestamp
		}
		if m.Timestamp.After(maxT) {
			maxT = m.Timestamp
		}
	}
	if len(fresh) == 0 {
		return p, nil // all duplicates: already stored, acknowledge again
	}
	clock.done(stageScrub)
	rec := &record{kind: kindEvents, id: newRecordID(), orgID: p.project.orgID, projectID: p.project.id,
		meta: eventsMeta{count: uint64(len(fresh)), min: minT, max: maxT}.encode()}
	// Sealed once, at zstd's fastest level: the packer stores this as is.
	if rec.body, err = p.project.dek.SealFast(buf.Bytes(), eventsAAD(rec.orgID, rec.projectID, rec.id)); err != nil {
		return p, fmt.Errorf("seal events: %w", err)
	}
	clock.done(stageSeal)
	if err := h.append(ctx, rec.encode()); err != nil {
		return p, err
	}
	clock.done(stageLog)
	if h.opts.Dedup != nil {
		for _, id := range fresh {
			h.opts.Dedup.Add(p.project.id, id, now)
		}
	}
	h.metrics.events.WithLabelValues("accepted").Add(float64(len(fresh)))
	h.metrics.bytes.WithLabelValues("events").Add(float64(len(body)))
	return p, nil
}

// observe exports a message's redaction report (counts only, never values).
func (h *Handler) observe(r scrub.Report) {
	if h.opts.ScrubMetrics != nil {
		h.opts.ScrubMetrics.Observe(r)
	}
}

func (h *Handler) allowKey(p *principal) error {
	if ok, wait := h.byKey.allow(p.key.ID); !ok {
		return rateLimited(wait)
	}
	return nil
}

// append makes rec durable or returns a 503 error.
func (h *Handler) append(ctx context.Context, rec []byte) error {
	if _, err := h.opts.Log.Append(ctx, rec); err != nil {
		if ctx.Err() == nil { // not the client going away (see fail)
			h.log.Warn("write-ahead log append failed", "err", err)
		}
		return &retryError{err: veil.Errorf(veil.EUNAVAILABLE, "Storage is unavailable; nothing was stored. Retry later."), after: 5 * time.Second}
	}
	return nil
}

func newRecordID() string {
	var b [12]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}
