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
		// Reader.Events writes one whole log record (complete JSON lines)
		// per Write, so ids are added record by record: memory stays at
		// one record however much the window holds.
		sink := writerFunc(func(lines []byte) (int, error) { add(p.ID, lines); return len(lines), nil })
		if _, err := rd.Events(ctx, p.ID, now.Add(-d.Window()), now.Add(d.Window()), sink); err != nil {
			return fmt.Errorf("project %s: %w", p.ID, err)
		}
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

// writerFunc adapts a function to io.Writer.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
