package lifecycle

import (
	"context"
	"strconv"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/store"
)

// Reasons a session is deleted (audit details and metric labels).
const (
	ReasonRequest   = "request"   // an operator or API call asked for it
	ReasonRetention = "retention" // older than the project's retention
	ReasonErasure   = "erasure"   // part of a per-user erasure
)

// DeleteResult says what deleting a session destroyed.
type DeleteResult struct {
	ProjectID string `json:"project_id"`
	SessionID string `json:"session_id"`
	Segments  int64  `json:"segments"`
	Bytes     int64  `json:"bytes"` // sealed bytes left as garbage for Compact
	// packs are the pack objects now holding those bytes.
	packs []string
}

// DeleteSession crypto-shreds one recording: in one store transaction its
// wrapped session key is overwritten and dropped, its metadata and segment
// index are removed and a tombstone is kept; then the deletion is
// audit-logged (actor from ctx). The sealed bytes stay in their pack
// objects, unreadable, until Compact. A missing session is ENOTFOUND.
// Analytics events that mention the session are not touched.
func (s *Service) DeleteSession(ctx context.Context, projectID, sessionID string) (*DeleteResult, error) {
	p, err := s.project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	res, err := s.shred(ctx, p, sessionID, ReasonRequest)
	if err != nil {
		return nil, err
	}
	_, err = s.record(ctx, audit.Entry{OrgID: p.orgID, Action: ActionSessionDelete, ObjectKind: "session", ObjectID: sessionID,
		Details: map[string]string{"project": projectID, "reason": ReasonRequest,
			"segments": strconv.FormatInt(res.Segments, 10), "bytes": strconv.FormatInt(res.Bytes, 10)}})
	return res, err
}

// shred deletes a session without auditing it (callers audit, one entry
// per request or per job run).
func (s *Service) shred(ctx context.Context, p *projectKey, sessionID, reason string) (*DeleteResult, error) {
	r, err := s.Store.ShredSession(ctx, p.id, sessionID, reason)
	if err != nil {
		return nil, err
	}
	s.Metrics.deleted(reason, 1, 0, 0)
	s.log().Info("session crypto-shredded", "project", p.id, "session", sessionID, "reason", reason, "segments", r.Segments)
	return &DeleteResult{ProjectID: p.id, SessionID: sessionID, Segments: r.Segments, Bytes: r.Bytes, packs: r.Packs}, nil
}

// ReapplyDeletions deletes again, after a restore from backup, the
// sessions a deletion ledger lists that the restored data still holds, so
// a restore does not bring deleted recordings back. Sessions or projects
// already gone are skipped. It returns how many sessions it deleted and
// writes one audit entry per project concerned.
func (s *Service) ReapplyDeletions(ctx context.Context, ledger []store.DeletedSession) (int, error) {
	perProject := map[string]int{}
	orgs := map[string]string{}
	total := 0
	for _, d := range ledger {
		p, err := s.project(ctx, d.ProjectID)
		if veil.ErrorCode(err) == veil.ENOTFOUND {
			continue
		} else if err != nil {
			return total, err
		}
		if _, err := s.shred(ctx, p, d.SessionID, d.Reason); veil.ErrorCode(err) == veil.ENOTFOUND {
			continue
		} else if err != nil {
			return total, err
		}
		perProject[p.id]++
		orgs[p.id] = p.orgID
		total++
	}
	for pid, n := range perProject {
		if _, err := s.record(ctx, audit.Entry{OrgID: orgs[pid], Action: ActionSessionDelete, ObjectKind: "project", ObjectID: pid,
			Details: map[string]string{"reason": "ledger_reapply", "sessions": strconv.Itoa(n)}}); err != nil {
			return total, err
		}
	}
	return total, nil
}
