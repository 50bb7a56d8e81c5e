package destination

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/store"
)

// Webhook event types emitted here (internal/webhook lists them all).
const (
	eventPushed = "recording.pushed"
	eventFailed = "destination.failed"
)

// PushedData is the data of recording.pushed: ids and metadata only.
type PushedData struct {
	ProjectID     string    `json:"project_id"`
	SessionID     string    `json:"session_id"`
	DestinationID string    `json:"destination_id"`
	Part          int       `json:"part"`
	Mode          string    `json:"mode"`
	Prefix        string    `json:"prefix"`
	Segments      int       `json:"segments"`
	Bytes         int64     `json:"bytes"`
	SHA256        string    `json:"sha256"`
	Encrypted     bool      `json:"encrypted"`
	PushedAt      time.Time `json:"pushed_at"`
}

// FailedData is the data of destination.failed.
type FailedData struct {
	ProjectID     string `json:"project_id"`
	DestinationID string `json:"destination_id"`
	Error         string `json:"error"` // short code, never a message
	Attempts      int    `json:"attempts"`
}

// RunResult counts what one run did.
type RunResult struct {
	Enqueued int `json:"enqueued"`
	Pushed   int `json:"pushed"`
	Failed   int `json:"failed"`
	Deleted  int `json:"deleted"` // local copies removed (do_not_store)
}

// Run pushes every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.log().Error("destination push run failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce does one round over every destination of every project: it
// enqueues the sessions that became idle, tries each due push (under the
// destination's lease, so two nodes never push to one destination at
// once), then, for projects with a do_not_store destination, deletes the
// local copy of every session all destinations received.
func (s *Service) RunOnce(ctx context.Context) (*RunResult, error) {
	res := &RunResult{}
	ds, err := s.Store.ListDestinations(ctx, "")
	if err != nil {
		return res, err
	}
	dns := map[string]bool{}
	var errs []error
	alerting := 0
	for _, d := range ds {
		if d.Mode == ModeDoNotStore {
			dns[d.ProjectID] = true
		}
		if d.PausedAt != nil {
			continue // an operator's choice: no pushes, and its alert does not page
		}
		if d.Alert != "" {
			alerting++
		}
		err := s.withLease(ctx, "destination.push/"+d.ID, func() error { return s.runDestination(ctx, d, res) })
		if err != nil && !errors.Is(err, errLeaseHeld) {
			errs = append(errs, fmt.Errorf("destination %s: %w", d.ID, err))
		}
	}
	for pid := range dns {
		err := s.withLease(ctx, "destination.delete/"+pid, func() error { return s.deletePushed(ctx, pid, res) })
		if err != nil && !errors.Is(err, errLeaseHeld) {
			errs = append(errs, fmt.Errorf("do_not_store deletion in %s: %w", pid, err))
		}
	}
	s.Metrics.alerts(alerting)
	s.Metrics.deletedLocal(res.Deleted)
	return res, errors.Join(errs...)
}

func (s *Service) runDestination(ctx context.Context, d *store.Destination, res *RunResult) error {
	now := s.now()
	n, err := s.Store.EnqueuePushes(ctx, d, now.Add(-s.idle()), now, s.batch())
	if err != nil {
		return err
	}
	res.Enqueued += n
	due, err := s.Store.ListDuePushes(ctx, d.ID, now, s.batch())
	if err != nil || len(due) == 0 {
		return err
	}
	t, err := s.open(ctx, d)
	if err != nil {
		// Cannot connect: every due push fails with this error.
		for _, p := range due {
			if err := s.fail(ctx, d, p, err, res); err != nil {
				return err
			}
		}
		return nil
	}
	defer t.Close()
	for _, p := range due {
		if ok, err := s.Store.AcquireLease(ctx, "destination.push/"+d.ID, s.NodeID, leaseTTL); err != nil {
			return err
		} else if !ok {
			return errLeaseHeld
		}
		perr := s.push(ctx, d, t, p)
		switch {
		case perr == nil:
			res.Pushed++
		case errors.Is(perr, errSessionGone):
			if err := s.Store.DropPush(ctx, p, "session_deleted"); err != nil {
				return err
			}
		default:
			if err := s.fail(ctx, d, p, perr, res); err != nil {
				return err
			}
		}
	}
	return nil
}

// backoff is the delay before try n+1 after n failed tries: 30 s doubling
// up to 1 h, each ±20 % jitter. Pushes are never given up.
func (s *Service) backoff(n int) time.Duration {
	d := 30 * time.Second * time.Duration(math.Pow(2, float64(min(n-1, 7))))
	d = min(d, time.Hour)
	return time.Duration(float64(d) * (0.8 + 0.4*s.jitter()))
}

func (s *Service) fail(ctx context.Context, d *store.Destination, p *store.DestinationPush, perr error, res *RunResult) error {
	res.Failed++
	code := errorCode(perr)
	s.Metrics.failed(code)
	next := s.now().Add(s.backoff(p.Attempts + 1))
	ev := veil.WebhookEvent{ProjectID: d.ProjectID, Type: eventFailed,
		Data: FailedData{ProjectID: d.ProjectID, DestinationID: d.ID, Error: code, Attempts: p.Attempts + 1}}
	alerted, err := s.Store.FailPush(ctx, p, code, next, s.alertAfter(), ev)
	if err != nil {
		return err
	}
	// The error text stays in the server log (it names hosts, not data);
	// the store, alert and webhook carry only the code.
	s.log().Warn("destination push failed; will retry", "destination_id", d.ID, "project_id", d.ProjectID,
		"session_id", p.SessionID, "attempts", p.Attempts, "code", code, "next_attempt", next, "err", perr)
	if alerted {
		s.log().Error("destination alert raised", "destination_id", d.ID, "project_id", d.ProjectID, "code", code)
	}
	return nil
}

var errSessionGone = errors.New("session deleted before it was pushed")

// objectNames returns the events and manifest names of a part.
func objectNames(part int) (events, manifest string) {
	if part <= 1 {
		return "events.json.gz", "manifest.json"
	}
	n := strconv.Itoa(part)
	return "events.part-" + n + ".json.gz", "manifest.part-" + n + ".json"
}

// sessionPrefix is project/yyyy/mm/dd/session/ (UTC date of the session's
// first activity).
func sessionPrefix(projectID, sessionID string, first time.Time) string {
	return projectID + "/" + first.UTC().Format("2006/01/02") + "/" + sessionID + "/"
}

// push writes one part: the events, then the manifest, each verified, then
// marks it done and emits recording.pushed in one store transaction.
func (s *Service) push(ctx context.Context, d *store.Destination, t target, p *store.DestinationPush) error {
	pk, err := s.project(ctx, d.ProjectID)
	if err != nil {
		return err
	}
	part, err := s.exportPart(ctx, pk, p)
	if err != nil {
		return err
	}
	prefix := sessionPrefix(d.ProjectID, p.SessionID, part.session.FirstSeen)
	evName, mfName := objectNames(p.Part)
	data := part.gz
	enc := d.AgeRecipient != ""
	if enc {
		if data, err = encryptAge(data, d.AgeRecipient); err != nil {
			return err
		}
		evName += ".age"
		mfName += ".age"
	}
	if err := s.putVerified(ctx, t, prefix+evName, data); err != nil {
		return err
	}
	obj := ManifestObject{Name: evName, Size: int64(len(data)), SHA256: hexSum(data),
		Content: "rrweb events: one JSON array (as veil export replay writes it), gzip"}
	m := s.manifest(pk, p, part, enc, obj)
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if enc {
		if mb, err = encryptAge(mb, d.AgeRecipient); err != nil {
			return err
		}
	}
	if err := s.putVerified(ctx, t, prefix+mfName, mb); err != nil {
		return err
	}
	objs, _ := json.Marshal([]ManifestObject{obj, {Name: mfName, Size: int64(len(mb)), SHA256: hexSum(mb)}})
	p.Location, p.Prefix, p.Objects = t.Location(), prefix, string(objs)
	p.Bytes, p.SHA256, p.Encrypted = int64(len(data)+len(mb)), obj.SHA256, enc
	ev := veil.WebhookEvent{ProjectID: d.ProjectID, Type: eventPushed, Data: PushedData{ProjectID: d.ProjectID,
		SessionID: p.SessionID, DestinationID: d.ID, Part: p.Part, Mode: d.Mode, Prefix: prefix,
		Segments: len(part.segs), Bytes: p.Bytes, SHA256: obj.SHA256, Encrypted: enc, PushedAt: s.now().UTC()}}
	if err := s.Store.CompletePush(ctx, p, ev); err != nil {
		return err
	}
	s.Metrics.pushed(p.Bytes)
	s.log().Info("recording pushed", "destination_id", d.ID, "project_id", d.ProjectID, "session_id", p.SessionID,
		"part", p.Part, "bytes", p.Bytes)
	return nil
}

// deletePushed deletes, under do_not_store, the local copy of every
// session of the project that every destination has received, then
// compacts the packs that held them.
func (s *Service) deletePushed(ctx context.Context, projectID string, res *RunResult) error {
	done, err := s.Store.ListFullyPushedSessions(ctx, projectID, s.batch())
	if err != nil || len(done) == 0 {
		return err
	}
	pk, err := s.project(ctx, projectID)
	if err != nil {
		return err
	}
	n := 0
	for _, ps := range done {
		r, err := s.Store.ShredPushedSession(ctx, projectID, ps.SessionID, ps.Upto)
		switch veil.ErrorCode(err) {
		case veil.ECONFLICT, veil.ENOTFOUND:
			continue // new segments arrived (pushed next), or already deleted
		}
		if err != nil {
			return err
		}
		n++
		s.log().Info("local copy deleted after push (do_not_store)", "project_id", projectID,
			"session_id", ps.SessionID, "segments", r.Segments)
	}
	res.Deleted += n
	if n == 0 {
		return nil
	}
	if s.Audit != nil {
		if _, err := s.Audit.Record(ctx, audit.Entry{OrgID: pk.orgID, Action: "session.delete", ObjectKind: "project",
			ObjectID: projectID, Details: map[string]string{"reason": "do_not_store", "sessions": strconv.Itoa(n)}}); err != nil {
			return err
		}
	}
	if s.Compact != nil {
		if err := s.Compact(ctx); err != nil {
			s.log().Warn("compaction after do_not_store deletion failed; the hourly run will finish it", "err", err)
		}
	}
	return nil
}
