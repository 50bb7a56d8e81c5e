package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/store"
)

// Audit actions recorded by this package (audit.Action* covers the rest).
const (
	ActionSessionDelete  = "session.delete"
	ActionRetentionSet   = "retention.change"
	ActionRetentionPurge = "retention.purge"
	ActionUserErase      = "data.erase"
	ActionBackupCreate   = "backup.create"
	ActionBackupRestore  = "backup.restore"
)

// Store is what the lifecycle service needs from the metadata store
// (*store.DB implements it).
type Store interface {
	ingest.Store
	audit.Store
	FindOrgByID(ctx context.Context, id string) (*veil.Org, error)
	ShredSession(ctx context.Context, projectID, sessionID, reason string) (*store.ShredResult, error)
	ListPackGarbage(ctx context.Context, limit int) ([]string, error)
	ListPackSegments(ctx context.Context, blobKey string) ([]*veil.Segment, error)
	MoveSegments(ctx context.Context, oldKey, newKey, projectID string, moves []*veil.Segment) error
	ClearPackGarbage(ctx context.Context, blobKey string) error
	MarkPackGarbage(ctx context.Context, blobKey, projectID string) error
	ListPacksAfter(ctx context.Context, projectID string, cur store.PackCursor, upto time.Time, limit int) ([]store.PackCursor, error)
	RecompressCursor(ctx context.Context, projectID string) (store.PackCursor, error)
	SetRecompressCursor(ctx context.Context, projectID string, c store.PackCursor) error
	ListSessionsSeenBefore(ctx context.Context, projectID string, cutoff time.Time, limit int) ([]*veil.Session, error)
	ListSessionsByUser(ctx context.Context, projectID, userIndex string) ([]*veil.Session, error)
	CountExpired(ctx context.Context, projectID string, replayCutoff, eventCutoff time.Time) (*store.RetentionStats, error)
	ListEventBatchesBefore(ctx context.Context, projectID string, cutoff time.Time, limit int) ([]*veil.EventBatch, error)
	DeleteEventBatch(ctx context.Context, projectID, id string) error
	ReplaceEventBatch(ctx context.Context, projectID, id, oldKey, newKey string, count int, bytes int64) error
	SetRetention(ctx context.Context, r *store.Retention) error
	FindRetention(ctx context.Context, orgID, projectID string) (*store.Retention, error)
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
	// EmitWebhookEvent queues an event for the project's webhook endpoints.
	EmitWebhookEvent(ctx context.Context, ev veil.WebhookEvent) ([]string, error)
}

// Service runs the lifecycle operations. Its fields are set once, before
// use; it is safe for concurrent use.
type Service struct {
	Store   Store
	Blobs   blob.Bucket
	Master  *keyring.Master
	Audit   *audit.Log
	Metrics *Metrics         // nil: no metrics
	Logger  *slog.Logger     // nil: slog.Default
	Now     func() time.Time // nil: time.Now; tests use a fake clock
	// BatchSize bounds each store listing in the jobs (default 100).
	BatchSize int

	mu   sync.Mutex
	keys map[string]*projectKey
}

type projectKey struct {
	id, orgID string
	dek       *keyring.DataKey
}

// ErrLeaseHeld reports that another node holds a job's lease right now.
var ErrLeaseHeld = errors.New("another node is running this job")

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Service) batch() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return 100
}

// project returns a project with its unwrapped data key.
func (s *Service) project(ctx context.Context, id string) (*projectKey, error) {
	s.mu.Lock()
	p := s.keys[id]
	s.mu.Unlock()
	if p != nil {
		return p, nil
	}
	vp, err := s.Store.FindProjectByID(ctx, id)
	if err != nil {
		return nil, err
	}
	dek, err := s.Master.Unwrap(vp.WrappedKey, ingest.ProjectKeyAAD(vp.OrgID, vp.ID))
	if err != nil {
		return nil, fmt.Errorf("unwrap project key %s: %w", vp.ID, err)
	}
	p = &projectKey{id: vp.ID, orgID: vp.OrgID, dek: dek}
	s.mu.Lock()
	if s.keys == nil {
		s.keys = map[string]*projectKey{}
	}
	s.keys[id] = p
	s.mu.Unlock()
	return p, nil
}

// record appends an audit entry; without an Audit log it does nothing.
func (s *Service) record(ctx context.Context, e audit.Entry) (*veil.AuditEntry, error) {
	if s.Audit == nil {
		return nil, nil
	}
	return s.Audit.Record(ctx, e)
}

// leaseTTL is how long a job's lease lasts without renewal; jobs renew it
// between steps (renewLease), so a node that dies mid-run blocks the job
// for at most this long.
const leaseTTL = 10 * time.Minute

// renewLease extends a lease this holder holds; ErrLeaseHeld if it was
// lost (it expired and another node took it), so the job stops.
func (s *Service) renewLease(ctx context.Context, name, holder string) error {
	ok, err := s.Store.AcquireLease(ctx, name, holder, leaseTTL)
	if err != nil {
		return err
	}
	if !ok {
		return ErrLeaseHeld
	}
	return nil
}

// withLease runs fn while holding the named lease for holder.
func (s *Service) withLease(ctx context.Context, name, holder string, fn func() error) error {
	ok, err := s.Store.AcquireLease(ctx, name, holder, leaseTTL)
	if err != nil {
		return err
	}
	if !ok {
		return ErrLeaseHeld
	}
	defer func() {
		if err := s.Store.ReleaseLease(context.WithoutCancel(ctx), name, holder); err != nil {
			s.log().Warn("release lease", "lease", name, "err", err)
		}
	}()
	return fn()
}

func newReader(s *Service) *ingest.Reader { return ingest.NewReader(s.Store, s.Blobs, s.Master) }
