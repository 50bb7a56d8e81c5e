package lifecycle

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/webhook"
)

// ExportManifest is manifest.json of a user export archive.
type ExportManifest struct {
	Format      string    `json:"format"` // "veil.user-export.v1"
	ProjectID   string    `json:"project_id"`
	Subject     string    `json:"subject"`
	GeneratedAt time.Time `json:"generated_at"`
	Events      int       `json:"events"`
	Sessions    []string  `json:"sessions"`
	Files       []string  `json:"files"`
}

// ExportUser writes everything stored about one user of a project to w as
// a zip archive (GDPR access and portability requests):
//
//	manifest.json          ExportManifest
//	events.jsonl           the user's messages, as stored (scrubbed)
//	sessions/<id>.json     {"session": metadata, "rrweb": [events]}
//
// The user's messages and sessions are found as Erase finds them. The
// export is audit-logged (audit.ActionDataExport, actor from ctx) with the
// subject's blind index, never the user id.
func (s *Service) ExportUser(ctx context.Context, projectID, userID string, w io.Writer) (*ExportManifest, error) {
	if userID == "" {
		return nil, veil.Errorf(veil.EINVALID, "User id required.")
	}
	p, err := s.project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	m := &ExportManifest{Format: "veil.user-export.v1", ProjectID: p.id,
		Subject: "user_id:" + p.dek.BlindIndex("user_id", userID), GeneratedAt: s.now().UTC()}
	var events bytes.Buffer
	linked := map[string]bool{}
	err = s.eachBatch(ctx, p, func(_ *veil.EventBatch, entries []batchEntry) error {
		for _, en := range entries {
			for _, l := range en.lines {
				if matchUser(l, userID) {
					events.Write(l)
					events.WriteByte('\n')
					m.Events++
					if sid := linkedSession(l); sid != "" {
						linked[sid] = true
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sessions, err := s.Store.ListSessionsByUser(ctx, p.id, p.dek.BlindIndex("user_id", userID))
	if err != nil {
		return nil, err
	}
	for _, ss := range sessions {
		linked[ss.ID] = true
	}
	cw := &webhook.CountingWriter{W: w}
	zw := zip.NewWriter(cw)
	add := func(name string, data []byte) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: m.GeneratedAt})
		if err != nil {
			return err
		}
		m.Files = append(m.Files, name)
		_, err = f.Write(data)
		return err
	}
	if err := add("events.jsonl", events.Bytes()); err != nil {
		return nil, err
	}
	rd := ingest.NewReader(s.Store, s.Blobs, s.Master)
	ids := make([]string, 0, len(linked))
	for sid := range linked {
		ids = append(ids, sid)
	}
	slices.Sort(ids)
	for _, sid := range ids {
		sess, err := s.Store.FindSession(ctx, p.id, sid)
		if veil.ErrorCode(err) == veil.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		var rr bytes.Buffer
		if _, err := rd.Replay(ctx, p.id, sid, &rr); err != nil {
			return nil, fmt.Errorf("export session %s: %w", sid, err)
		}
		doc, err := json.MarshalIndent(struct {
			Session *veil.Session   `json:"session"`
			RRWeb   json.RawMessage `json:"rrweb"`
		}{sess, bytes.TrimSpace(rr.Bytes())}, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := add("sessions/"+sid+".json", doc); err != nil {
			return nil, err
		}
		m.Sessions = append(m.Sessions, sid)
	}
	mj, _ := json.MarshalIndent(m, "", "  ")
	if err := add("manifest.json", mj); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if _, err = s.record(ctx, audit.Entry{OrgID: p.orgID, Action: audit.ActionDataExport, ObjectKind: "subject", ObjectID: m.Subject,
		Details: map[string]string{"project": p.id, "kind": "user", "events": strconv.Itoa(m.Events), "sessions": strconv.Itoa(len(m.Sessions))}}); err != nil {
		return m, err
	}
	// export.completed: kind, counts, size and who asked (an actor id);
	// never the subject, not even by blind index.
	kind, id := ExportActor(ctx)
	ev := webhook.ExportCompletedEvent(webhook.ExportData{ProjectID: p.id, Kind: "user", Format: "zip", Events: int64(m.Events),
		Sessions: int64(len(m.Sessions)), Bytes: cw.N, ActorKind: kind, ActorID: id}, s.now())
	if _, err := s.Store.EmitWebhookEvent(ctx, ev); err != nil {
		return m, fmt.Errorf("queue export.completed webhook: %w", err)
	}
	return m, nil
}

// ExportActor names who runs an export in its export.completed event: the
// audit actor of ctx (a user or token id; "system"/"cli" for the command
// line), never an e-mail address.
func ExportActor(ctx context.Context) (kind, id string) {
	a := audit.ActorFrom(ctx)
	if a == nil || a.Kind == "" {
		return audit.ActorSystem, ""
	}
	return a.Kind, a.ID
}
