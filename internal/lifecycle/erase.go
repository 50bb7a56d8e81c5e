package lifecycle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/ingest"
)

// Certificate is the record of one per-user erasure. It holds no personal
// data: the subject is named by its blind index (HMAC of the user id with
// the project's index key), which only someone holding the project key and
// the user id can link back to the person.
type Certificate struct {
	ID          string    `json:"id"`
	ProjectID   string    `json:"project_id"`
	OrgID       string    `json:"org_id"`
	Subject     string    `json:"subject"` // "user_id:" + blind index
	RequestedBy string    `json:"requested_by"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	Deleted     struct {
		Sessions         int64 `json:"sessions"`
		Segments         int64 `json:"segments"`
		Events           int64 `json:"events"`
		BatchesRewritten int64 `json:"event_batches_rewritten"`
		BatchesDeleted   int64 `json:"event_batches_deleted"`
	} `json:"deleted"`
	// Compaction says whether the sessions' sealed replay bytes already
	// left the pack objects: CompactionDone, CompactionPending (the hourly
	// compaction removes them) or CompactionNone.
	Compaction string `json:"compaction"`
	AuditSeq   int64  `json:"audit_seq,omitempty"`
	AuditHash  string `json:"audit_hash,omitempty"`
	Note       string `json:"note"`
}

const eraseNote = "Session keys were destroyed (crypto-shredding) and the user's messages removed from event batch objects; " +
	"the sealed replay bytes were removed from pack objects before this certificate was written when compaction is \"done\", " +
	"else (\"pending\") by the hourly compaction job. Data still in the ingest write-ahead log " +
	"(not yet packed, normally under a few seconds) and in backups taken earlier is not covered; see docs/data-lifecycle.md."

// Subject is how a user appears in certificates, audit entries and
// exports: the blind index of the user id, never the id.
func (s *Service) Subject(ctx context.Context, projectID, userID string) (string, error) {
	p, err := s.project(ctx, projectID)
	if err != nil {
		return "", err
	}
	return "user_id:" + p.dek.BlindIndex("user_id", userID), nil
}

// matchUser reports whether a stored message belongs to userID: its
// userId or anonymousId is userID, or its traits.email (or
// context.traits.email) equals userID ignoring case.
func matchUser(line []byte, userID string) bool {
	if !bytes.Contains(bytes.ToLower(line), bytes.ToLower(jsonEscaped(userID))) {
		return false // fast path: most messages do not mention the user at all
	}
	var m struct {
		UserID      any `json:"userId"`
		AnonymousID any `json:"anonymousId"`
		Traits      struct {
			Email string `json:"email"`
		} `json:"traits"`
		Context struct {
			Traits struct {
				Email string `json:"email"`
			} `json:"traits"`
		} `json:"context"`
	}
	if json.Unmarshal(line, &m) != nil {
		return false
	}
	return idEq(m.UserID, userID) || idEq(m.AnonymousID, userID) ||
		m.Traits.Email != "" && strings.EqualFold(m.Traits.Email, userID) ||
		m.Context.Traits.Email != "" && strings.EqualFold(m.Context.Traits.Email, userID)
}

// idEq compares a Segment id (a string, or a number some clients send).
func idEq(v any, id string) bool {
	switch x := v.(type) {
	case string:
		return x == id
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64) == id
	}
	return false
}

// jsonEscaped is s as it appears inside a JSON string.
func jsonEscaped(s string) []byte {
	b, _ := json.Marshal(s)
	return b[1 : len(b)-1]
}

// linkedSession returns context.veil.sessionId of a message, if any.
func linkedSession(line []byte) string {
	var m struct {
		Context struct {
			Veil struct {
				SessionID string `json:"sessionId"`
			} `json:"veil"`
		} `json:"context"`
	}
	json.Unmarshal(line, &m)
	return m.Context.Veil.SessionID
}

// eachUserEvent walks every stored event batch of the project, calling fn
// with each batch and its entries split into lines, and whether each line
// is the user's.
func (s *Service) eachBatch(ctx context.Context, p *projectKey, fn func(b *veil.EventBatch, entries []batchEntry) error) error {
	batches, err := s.Store.ListEventBatches(ctx, p.id, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	for _, b := range batches {
		obj, err := s.Blobs.Get(ctx, b.BlobKey)
		if errors.Is(err, blob.ErrNotFound) {
			continue // deleted by retention meanwhile
		} else if err != nil {
			return fmt.Errorf("read event batch %s: %w", b.ID, err)
		}
		var entries []batchEntry
		err = ingest.EachBatchEntry(obj, func(id string, sealed []byte) error {
			plain, err := p.dek.Open(sealed, ingest.EventsAAD(p.orgID, p.id, id))
			if err != nil {
				return fmt.Errorf("open event batch %s: %w", b.ID, err)
			}
			entries = append(entries, batchEntry{id: id, sealed: sealed, lines: splitLines(plain)})
			return nil
		})
		if err != nil {
			return err
		}
		if err := fn(b, entries); err != nil {
			return err
		}
	}
	return nil
}

type batchEntry struct {
	id     string
	sealed []byte
	lines  [][]byte
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte{'\n'}) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// Erase deletes everything stored about one user of a project: sessions
// whose blind user index matches, and sessions named by the user's events
// (context.veil.sessionId), are crypto-shredded; the user's messages
// (userId, anonymousId or traits.email) are removed from every event batch
// object, which is rewritten under a new key (or deleted when nothing is
// left). The certificate is audit-logged (actor from ctx) and returned.
func (s *Service) Erase(ctx context.Context, projectID, userID string) (*Certificate, error) {
	if userID == "" {
		return nil, veil.Errorf(veil.EINVALID, "User id required.")
	}
	p, err := s.project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	c := &Certificate{ID: veil.NewID("era"), ProjectID: p.id, OrgID: p.orgID, Subject: "user_id:" + p.dek.BlindIndex("user_id", userID),
		StartedAt: s.now().UTC(), Note: eraseNote}
	if a := audit.ActorFrom(ctx); a != nil {
		c.RequestedBy = a.Kind + ":" + a.ID
	}
	linked := map[string]bool{}
	err = s.eachBatch(ctx, p, func(b *veil.EventBatch, entries []batchEntry) error {
		var out []byte
		removed := 0
		for _, en := range entries {
			var keep [][]byte
			for _, l := range en.lines {
				if matchUser(l, userID) {
					removed++
					if sid := linkedSession(l); sid != "" {
						linked[sid] = true
					}
					continue
				}
				keep = append(keep, l)
			}
			switch {
			case len(keep) == len(en.lines):
				out = ingest.AppendBatchEntry(out, en.id, en.sealed) // untouched, still sealed
			case len(keep) > 0:
				sealed, err := p.dek.Seal(append(bytes.Join(keep, []byte{'\n'}), '\n'), ingest.EventsAAD(p.orgID, p.id, en.id))
				if err != nil {
					return err
				}
				out = ingest.AppendBatchEntry(out, en.id, sealed)
			}
		}
		if removed == 0 {
			return nil
		}
		c.Deleted.Events += int64(removed)
		if len(out) == 0 {
			c.Deleted.BatchesDeleted++
			if err := s.Blobs.Delete(ctx, b.BlobKey); err != nil {
				return err
			}
			return s.Store.DeleteEventBatch(ctx, p.id, b.ID)
		}
		c.Deleted.BatchesRewritten++
		newKey := path.Dir(b.BlobKey) + "/" + veil.NewID("evb")
		if err := s.Blobs.Put(ctx, newKey, out); err != nil {
			return err
		}
		if err := s.Store.ReplaceEventBatch(ctx, p.id, b.ID, b.BlobKey, newKey, b.Count-removed, int64(len(out))); err != nil {
			s.Blobs.Delete(context.WithoutCancel(ctx), newKey)
			return err
		}
		return s.Blobs.Delete(ctx, b.BlobKey)
	})
	if err != nil {
		return nil, fmt.Errorf("erase events: %w", err)
	}
	sessions, err := s.Store.ListSessionsByUser(ctx, p.id, p.dek.BlindIndex("user_id", userID))
	if err != nil {
		return nil, err
	}
	for _, ss := range sessions {
		linked[ss.ID] = true
	}
	var packs []string
	for sid := range linked {
		r, err := s.shred(ctx, p, sid, ReasonErasure)
		if veil.ErrorCode(err) == veil.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		c.Deleted.Sessions++
		c.Deleted.Segments += r.Segments
		packs = append(packs, r.packs...)
	}
	// Every caller (CLI, API, dashboard) gets the same: the erased
	// sessions' bytes leave storage now, not at the next hourly run.
	c.Compaction = s.compactNow(ctx, "erase/"+c.ID, packs)
	s.Metrics.deleted(ReasonErasure, 0, c.Deleted.BatchesDeleted, c.Deleted.Events)
	c.FinishedAt = s.now().UTC()
	d := c.Deleted
	e, err := s.record(ctx, audit.Entry{OrgID: p.orgID, Action: ActionUserErase, ObjectKind: "subject", ObjectID: c.Subject,
		Details: map[string]string{"project": p.id, "certificate": c.ID, "sessions": strconv.FormatInt(d.Sessions, 10),
			"segments": strconv.FormatInt(d.Segments, 10), "events": strconv.FormatInt(d.Events, 10),
			"event_batches_rewritten": strconv.FormatInt(d.BatchesRewritten, 10), "event_batches_deleted": strconv.FormatInt(d.BatchesDeleted, 10),
			"compaction": c.Compaction}})
	if err != nil {
		return c, err
	}
	if e != nil {
		c.AuditSeq, c.AuditHash = e.Seq, e.Hash
	}
	// Ids and counts only: the subject is not named, not even by index.
	if _, err := s.Store.EmitWebhookEvent(ctx, veil.WebhookEvent{ProjectID: p.id, Type: "user.erased",
		Data: map[string]any{"project_id": p.id, "certificate_id": c.ID, "sessions": d.Sessions}}); err != nil {
		return c, fmt.Errorf("queue user.erased webhook: %w", err)
	}
	return c, nil
}
