package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/veil-privacy/veil/internal/wal"
)

// RestoreDedup refills the messageId de-duplication window after a start:
// from the stored event batches of the window and from the records still in
// the log, so a client retrying across a restart is not stored twice.
func (h *Handler) RestoreDedup(ctx context.Context, log Log) error {
	d := h.opts.Dedup
	if d == nil {
		return nil
	}
	now := h.now()
	add := func(projectID string, lines []byte) {
		sc := bufio.NewScanner(bytes.NewReader(lines))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m struct {
				MessageID  string    `json:"messageId"`
				ReceivedAt time.Time `json:"receivedAt"`
			}
			if json.Unmarshal(sc.Bytes(), &m) == nil && m.MessageID != "" {
				at := m.ReceivedAt
				if at.IsZero() {
					at = now
				}
				d.Add(projectID, m.MessageID, at) // the window runs from first receipt
			}
		}
	}
	projects, err := h.store.ListProjects(ctx, "")
	if err != nil {
		return err
	}
	rd := &Reader{Store: h.store, Blobs: h.blobs, keys: h.keys}
	for _, p := range projects {
		if rd.Blobs == nil {
			break
		}
		var buf bytes.Buffer
		if _, err := rd.Events(ctx, p.ID, now.Add(-d.Window()), now.Add(d.Window()), &buf); err != nil {
			return fmt.Errorf("project %s: %w", p.ID, err)
		}
		add(p.ID, buf.Bytes())
	}
	return log.Replay(0, func(_ wal.LSN, b []byte) error {
		rec, err := decodeRecord(b)
		if err != nil || rec.kind != kindEvents {
			return nil
		}
		p, err := h.keys.project(ctx, rec.projectID)
		if err != nil {
			return nil
		}
		plain, err := p.dek.Open(rec.body, eventsAAD(rec.orgID, rec.projectID, rec.id))
		if err == nil {
			add(rec.projectID, plain)
		}
		return nil
	})
}
