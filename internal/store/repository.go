package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veil-privacy/veil"
)

// Repository is Veil's metadata store. *DB implements it on SQLite and on
// Postgres with the same behaviour; storetest.RunSuite checks both.
//
// Contract shared by every method:
//   - A missing object is a *veil.Error with code veil.ENOTFOUND.
//   - A uniqueness clash (same ID, project name in an org, user email in any
//     letter case, key prefix, membership) is veil.ECONFLICT.
//   - A missing or malformed required field is veil.EINVALID.
//   - Create* fill an empty ID with veil.NewID and set CreatedAt from DB.Now;
//     a parent that does not exist is veil.ENOTFOUND.
//   - Lookups of a child object take its parent's id (tenant scoping): a
//     child asked for under another parent is veil.ENOTFOUND, exactly as if
//     it did not exist.
//   - Times are returned in UTC, truncated to microseconds.
//   - Other errors are internal and their messages are not for end users.
type Repository interface {
	// CreateOrg stores o. Org names are unique.
	CreateOrg(ctx context.Context, o *veil.Org) error
	FindOrgByID(ctx context.Context, id string) (*veil.Org, error)
	FindOrgByName(ctx context.Context, name string) (*veil.Org, error)
	// ListOrgs returns all orgs ordered by name.
	ListOrgs(ctx context.Context) ([]*veil.Org, error)
	// DeleteOrg deletes an org and, by cascade, its projects, their keys,
	// sessions and batches, and its memberships.
	DeleteOrg(ctx context.Context, id string) error

	// CreateProject stores p. Names are unique within an org. p.WrappedKey
	// should already hold the project's wrapped data key.
	CreateProject(ctx context.Context, p *veil.Project) error
	FindProjectByID(ctx context.Context, id string) (*veil.Project, error)
	FindProjectByName(ctx context.Context, orgID, name string) (*veil.Project, error)
	// ListProjects returns the org's projects ordered by name; orgID ""
	// lists every project.
	ListProjects(ctx context.Context, orgID string) ([]*veil.Project, error)
	// DeleteProject deletes a project of the org and, by cascade, its keys,
	// sessions and batches. Losing the wrapped key crypto-shreds its blobs.
	DeleteProject(ctx context.Context, orgID, id string) error
	// RewrapProjectKeys replaces every project's WrappedKey with fn's result
	// in one transaction: if fn fails for any project nothing changes. It
	// blocks project writes meanwhile and returns the number rewritten. fn
	// must not call the Repository (on SQLite it would wait for itself).
	RewrapProjectKeys(ctx context.Context, fn func(p *veil.Project) ([]byte, error)) (int, error)

	// CreateKey stores k. Prefix is unique across all projects.
	CreateKey(ctx context.Context, k *veil.WriteKey) error
	// FindKeyByPrefix finds a key, revoked or not, by its prefix; ingest uses
	// it to authenticate, so it is the one lookup without a parent id.
	FindKeyByPrefix(ctx context.Context, prefix string) (*veil.WriteKey, error)
	// ListKeys returns the project's keys, revoked included, oldest first.
	ListKeys(ctx context.Context, projectID string) ([]*veil.WriteKey, error)
	// RevokeKey marks a key of the project revoked at at (a future time
	// schedules it: the key works until then). Revoking again keeps the
	// earlier time, so an immediate revocation overrides a scheduled one.
	RevokeKey(ctx context.Context, projectID, keyID string, at time.Time) error

	// CreateUser stores u; emails are unique regardless of case.
	CreateUser(ctx context.Context, u *veil.User) error
	FindUserByID(ctx context.Context, id string) (*veil.User, error)
	// FindUserByEmail matches the email regardless of case.
	FindUserByEmail(ctx context.Context, email string) (*veil.User, error)
	// ListDemoUsers returns users with IsDemo set (for `veil doctor`).
	ListDemoUsers(ctx context.Context) ([]*veil.User, error)
	// CreateMembership grants m.UserID m.Role in m.OrgID; one per pair.
	CreateMembership(ctx context.Context, m *veil.Membership) error
	FindMembership(ctx context.Context, orgID, userID string) (*veil.Membership, error)
	// ListMemberships returns the user's memberships ordered by org id.
	ListMemberships(ctx context.Context, userID string) ([]*veil.Membership, error)

	// CreateSession stores s. IDs are unique per project. Zero FirstSeen or
	// LastSeen are set to now.
	CreateSession(ctx context.Context, s *veil.Session) error
	// CreateSessions stores many sessions in one transaction, all or none.
	CreateSessions(ctx context.Context, ss []*veil.Session) error
	FindSession(ctx context.Context, projectID, id string) (*veil.Session, error)
	// ListSessions returns the project's sessions, most recently seen first;
	// limit <= 0 means DefaultLimit.
	ListSessions(ctx context.Context, projectID string, limit int) ([]*veil.Session, error)
	// UpdateSession applies upd atomically and returns the updated session.
	UpdateSession(ctx context.Context, projectID, id string, upd veil.SessionUpdate) (*veil.Session, error)
	// DeleteSession deletes the session row, and with it its wrapped key.
	DeleteSession(ctx context.Context, projectID, id string) error

	// CreateEventBatch stores the metadata of one sealed batch object.
	CreateEventBatch(ctx context.Context, b *veil.EventBatch) error
	// ListEventBatches returns the project's batches whose [MinTime,
	// MaxTime] overlaps [since, until), ordered by MinTime; a zero until
	// means no upper bound.
	ListEventBatches(ctx context.Context, projectID string, since, until time.Time) ([]*veil.EventBatch, error)

	// CommitPack records event batches, segment index entries (skipping
	// segments already indexed or whose session is gone) with their session
	// counters, and the node's log checkpoint, in one transaction. It
	// returns the number of segments newly indexed.
	CommitPack(ctx context.Context, c *veil.PackCommit) (int, error)
	// FindCheckpoint returns the node's log checkpoint, 0 when it has none.
	FindCheckpoint(ctx context.Context, nodeID string) (uint64, error)
	// ListSegments returns the session's segments in sequence order.
	ListSegments(ctx context.Context, projectID, sessionID string) ([]*veil.Segment, error)

	// AcquireLease takes or renews the named lease for holder until now+ttl.
	// It reports false, with no error, while another holder's lease is
	// unexpired. Safe across processes sharing the database.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives up the lease if holder holds it; otherwise it is a
	// no-op.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// DefaultLimit is the page size used when a list limit is not positive.
const DefaultLimit = 100

func notFoundErr(msg string) error { return veil.Errorf(veil.ENOTFOUND, "%s", msg) }

func invalidf(format string, args ...any) error { return veil.Errorf(veil.EINVALID, format, args...) }

// mapErr turns constraint violations into user-facing codes: a unique
// clash into ECONFLICT with conflict, a missing parent into ENOTFOUND with
// parent. Anything else is wrapped with op for the logs.
func mapErr(err error, op, conflict, parent string) error {
	switch classify(err) {
	case uniqueViolation:
		if conflict != "" {
			return veil.Errorf(veil.ECONFLICT, "%s", conflict)
		}
	case foreignKeyViolation:
		if parent != "" {
			return notFoundErr(parent)
		}
	}
	return wrap(op, err)
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

// one finishes a single-row lookup: no row is ENOTFOUND with notFound.
func one[T any](v *T, err error, op, notFound string) (*T, error) {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, notFoundErr(notFound)
	case err != nil:
		return nil, wrap(op, err)
	}
	return v, nil
}
