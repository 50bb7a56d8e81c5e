package lifecycle

import (
	"context"
	"strconv"

	"github.com/veil-privacy/veil/internal/audit"
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
	return &DeleteResult{ProjectID: p.id, SessionID: sessionID, Segments: r.Segments, Bytes: r.Bytes}, nil
}
