package destination

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/netguard"
	"github.com/veil-privacy/veil/internal/store"
)

// Store is what the service needs from the metadata store (*store.DB).
type Store interface {
	FindProjectByID(ctx context.Context, id string) (*veil.Project, error)
	FindSession(ctx context.Context, projectID, id string) (*veil.Session, error)
	ListSegments(ctx context.Context, projectID, sessionID string) ([]*veil.Segment, error)
	CreateDestination(ctx context.Context, d *store.Destination) error
	FindDestination(ctx context.Context, projectID, id string) (*store.Destination, error)
	ListDestinations(ctx context.Context, projectID string) ([]*store.Destination, error)
	UpdateDestination(ctx context.Context, projectID, id string, u store.DestinationUpdate) (*store.Destination, error)
	DeleteDestination(ctx context.Context, projectID, id string) error
	SetDestinationPaused(ctx context.Context, projectID, id string, at *time.Time) error
	DestinationPushStats(ctx context.Context, id string) (*store.PushStats, error)
	EnqueuePushes(ctx context.Context, d *store.Destination, cutoff, now time.Time, limit int) (int, error)
	ListDuePushes(ctx context.Context, destinationID string, now time.Time, limit int) ([]*store.DestinationPush, error)
	ListSessionPushes(ctx context.Context, projectID, sessionID string) ([]*store.DestinationPush, error)
	CompletePush(ctx context.Context, p *store.DestinationPush, ev veil.WebhookEvent) error
	FailPush(ctx context.Context, p *store.DestinationPush, code string, next time.Time, alertAfter int, ev veil.WebhookEvent) (bool, error)
	DropPush(ctx context.Context, p *store.DestinationPush, reason string) error
	ListFullyPushedSessions(ctx context.Context, projectID string, limit int) ([]*store.PushedSession, error)
	ShredPushedSession(ctx context.Context, projectID, sessionID string, upto time.Time) (*store.ShredResult, error)
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Service manages destinations and runs the push job. Fields are set once
// before use; it is safe for concurrent use.
type Service struct {
	Store  Store
	Blobs  blob.Bucket
	Master *keyring.Master
	Audit  *audit.Log   // nil: no audit entries for do_not_store deletions
	Logger *slog.Logger // nil: slog.Default
	// Compact, when set, runs after do_not_store deletions so the sealed
	// bytes leave the pack objects at once (else the hourly compaction).
	Compact func(ctx context.Context) error
	Now     func() time.Time // nil: time.Now; tests use a fake clock
	// NodeID names this node as a lease holder.
	NodeID string
	// Version goes into every manifest.
	Version string
	// IdleTimeout is how long a session must have received nothing before
	// it is pushed (default DefaultIdleTimeout).
	IdleTimeout time.Duration
	// AlertAfter is how many failed attempts of one push raise the
	// destination's alert (default 3).
	AlertAfter int
	// Batch bounds sessions enqueued and pushes tried per destination and
	// run (default 50).
	Batch int
	// Jitter returns a number in [0,1) for backoff jitter (nil: random).
	Jitter func() float64
	// Timeout bounds one network operation (default 60s).
	Timeout time.Duration
	Metrics *Metrics // nil: no metrics
	// AllowPrivate lets destinations reach loopback, private, link-local
	// and metadata addresses (the operator's
	// VEIL_DESTINATION_ALLOW_PRIVATE; tests). Off, such hosts are refused
	// when a destination is added and on every connection.
	AllowPrivate bool

	mu   sync.Mutex
	keys map[string]*projectKey
}

// guard is the SSRF guard of every connection to a destination.
func (s *Service) guard() *netguard.Guard {
	return &netguard.Guard{What: "destinations", Env: "VEIL_DESTINATION_ALLOW_PRIVATE", Allow: s.AllowPrivate}
}

// checkHosts refuses, early, a destination whose S3 endpoint or SFTP
// host is a literal non-public address or localhost (names resolving to
// one are refused when connecting).
func (s *Service) checkHosts(in *Input) error {
	host := ""
	switch {
	case in.S3 != nil && in.S3.Endpoint != "":
		u, err := url.Parse(in.S3.Endpoint)
		if err != nil {
			return invalid("Endpoint must be an http(s) URL.")
		}
		host = u.Hostname()
	case in.SFTP != nil:
		host = in.SFTP.Host
	}
	if err := s.guard().CheckHost(host); err != nil {
		return invalid("%s", err.Error())
	}
	return nil
}

// DefaultIdleTimeout is how long a session stays idle before it is pushed.
const DefaultIdleTimeout = 30 * time.Minute

type projectKey struct {
	id, orgID string
	dek       *keyring.DataKey
}

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

func (s *Service) idle() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (s *Service) alertAfter() int {
	if s.AlertAfter > 0 {
		return s.AlertAfter
	}
	return 3
}

func (s *Service) batch() int {
	if s.Batch > 0 {
		return s.Batch
	}
	return 50
}

func (s *Service) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 60 * time.Second
}

func (s *Service) jitter() float64 {
	if s.Jitter != nil {
		return s.Jitter()
	}
	return mrand.Float64()
}

// project returns a project with its unwrapped data key (cached).
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

// secretAAD binds a destination's sealed secrets to it.
func secretAAD(p *projectKey, id string) keyring.AAD {
	return keyring.AAD{Org: p.orgID, Project: p.id, Kind: "destination-secret", ID: id}
}

// View is a destination as shown to operators: settings, state and push
// counts, never secrets.
type View struct {
	*store.Destination
	S3     *S3Config       `json:"s3,omitempty"`
	SFTP   *SFTPConfig     `json:"sftp,omitempty"`
	Pushes store.PushStats `json:"pushes"`
}

// Create validates in and stores a new destination of the project, its
// secrets sealed with the project data key.
func (s *Service) Create(ctx context.Context, projectID string, in Input) (*View, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	if err := s.checkHosts(&in); err != nil {
		return nil, err
	}
	p, err := s.project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	cfg, err := encodeConfig(&in)
	if err != nil {
		return nil, err
	}
	sec, err := json.Marshal(in.Secrets)
	if err != nil {
		return nil, fmt.Errorf("encode secrets: %w", err)
	}
	d := &store.Destination{ID: veil.NewID("dst"), ProjectID: projectID, Name: in.Name, Kind: in.Kind, Mode: in.Mode,
		Config: cfg, AgeRecipient: in.AgeRecipient}
	if d.SealedSecret, err = p.dek.Seal(sec, secretAAD(p, d.ID)); err != nil {
		return nil, fmt.Errorf("seal destination secrets: %w", err)
	}
	if err := s.Store.CreateDestination(ctx, d); err != nil {
		return nil, err
	}
	return s.view(ctx, d)
}

func (s *Service) view(ctx context.Context, d *store.Destination) (*View, error) {
	c, err := decodeConfig(d.Config)
	if err != nil {
		return nil, err
	}
	st, err := s.Store.DestinationPushStats(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	return &View{Destination: d, S3: c.S3, SFTP: c.SFTP, Pushes: *st}, nil
}

// Find returns one destination of the project.
func (s *Service) Find(ctx context.Context, projectID, id string) (*View, error) {
	d, err := s.Store.FindDestination(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, d)
}

// List returns the project's destinations.
func (s *Service) List(ctx context.Context, projectID string) ([]*View, error) {
	ds, err := s.Store.ListDestinations(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := make([]*View, 0, len(ds))
	for _, d := range ds {
		v, err := s.view(ctx, d)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Remove deletes a destination and its pending pushes; stubs of
// recordings already pushed there stay.
func (s *Service) Remove(ctx context.Context, projectID, id string) error {
	return s.Store.DeleteDestination(ctx, projectID, id)
}

// probeTimeout bounds one Test.
const probeTimeout = 45 * time.Second

// SetPaused pauses (paused) or resumes a destination. While paused the
// push job neither enqueues nor pushes to it, and, because do_not_store
// deletes a local copy only once every destination of the project has a
// recording, keeps every recording in Veil. On resume it catches up.
func (s *Service) SetPaused(ctx context.Context, projectID, id string, paused bool) (*View, error) {
	var at *time.Time
	if paused {
		now := s.now().UTC()
		at = &now
	}
	if err := s.Store.SetDestinationPaused(ctx, projectID, id, at); err != nil {
		return nil, err
	}
	return s.Find(ctx, projectID, id)
}

// TestResult is what Test did.
type TestResult struct {
	Location string `json:"location"`
	Object   string `json:"object"`
	Bytes    int    `json:"bytes"`
	Verified bool   `json:"verified"`
}

// Test writes a small probe object to the destination (age-encrypted if
// the destination encrypts), reads back its size and SHA-256, and deletes
// it. Errors say what failed (connect, host key, auth, write, verify).
func (s *Service) Test(ctx context.Context, projectID, id string) (*TestResult, error) {
	d, err := s.Store.FindDestination(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	return s.probe(ctx, d)
}

// probe is Test on d as given, stored or not (Update's verify).
func (s *Service) probe(ctx context.Context, d *store.Destination) (res *TestResult, err error) {
	// One bound for the whole probe: the dashboard and the API answer
	// before the server's 60 s write timeout even when a host drops
	// packets.
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	defer func() {
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s: %w", probeTimeout, err)
		}
	}()
	t, err := s.open(ctx, d)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	var rnd [8]byte
	rand.Read(rnd[:])
	name := ".veil-probe/" + hex.EncodeToString(rnd[:]) + ".txt"
	data := []byte("veil destination probe " + s.now().UTC().Format(time.RFC3339) + "\n")
	if d.AgeRecipient != "" {
		if data, err = encryptAge(data, d.AgeRecipient); err != nil {
			return nil, err
		}
		name += ".age"
	}
	res = &TestResult{Location: t.Location(), Object: name, Bytes: len(data)}
	if err := s.putVerified(ctx, t, name, data); err != nil {
		return res, err
	}
	res.Verified = true
	if err := t.Delete(ctx, name); err != nil {
		return res, fmt.Errorf("delete probe object: %w", err)
	}
	return res, nil
}

// open connects to a destination with its unsealed secrets.
func (s *Service) open(ctx context.Context, d *store.Destination) (target, error) {
	p, err := s.project(ctx, d.ProjectID)
	if err != nil {
		return nil, err
	}
	c, err := decodeConfig(d.Config)
	if err != nil {
		return nil, err
	}
	sec, err := openSecrets(p, d)
	if err != nil {
		return nil, err
	}
	switch {
	case d.Kind == KindS3 && c.S3 != nil:
		return newS3Target(c.S3, sec, s.timeout(), s.guard()), nil
	case d.Kind == KindSFTP && c.SFTP != nil:
		return dialSFTP(ctx, c.SFTP, sec, s.timeout(), s.guard())
	}
	return nil, fmt.Errorf("destination %s: unknown kind %q", d.ID, d.Kind)
}

// openSecrets unseals d's secrets.
func openSecrets(p *projectKey, d *store.Destination) (Secrets, error) {
	var sec Secrets
	plain, err := p.dek.Open(d.SealedSecret, secretAAD(p, d.ID))
	if err != nil {
		return sec, fmt.Errorf("open destination secrets: %w", err)
	}
	if err := json.Unmarshal(plain, &sec); err != nil {
		return sec, fmt.Errorf("decode destination secrets: %w", err)
	}
	return sec, nil
}

// errLeaseHeld reports that another node pushes to a destination now.
var errLeaseHeld = errors.New("another node holds the lease")

const leaseTTL = 10 * time.Minute

func (s *Service) withLease(ctx context.Context, name string, fn func() error) error {
	ok, err := s.Store.AcquireLease(ctx, name, s.NodeID, leaseTTL)
	if err != nil {
		return err
	}
	if !ok {
		return errLeaseHeld
	}
	defer func() {
		if err := s.Store.ReleaseLease(context.WithoutCancel(ctx), name, s.NodeID); err != nil {
			s.log().Warn("release lease", "lease", name, "err", err)
		}
	}()
	return fn()
}
