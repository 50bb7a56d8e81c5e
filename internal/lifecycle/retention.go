package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/store"
)

// LeaseRetention is the lease that makes the retention job single-node.
const LeaseRetention = "lifecycle.retention"

// Day is one retention day.
const Day = 24 * time.Hour

// Policy is the retention in force for one project, after inheritance
// (project setting → org default → keep forever). 0 days keeps forever.
type Policy struct {
	ProjectID  string `json:"project_id"`
	ReplayDays int    `json:"replay_days"`
	EventDays  int    `json:"event_days"`
	// Where each value comes from: "project", "org" or "default".
	ReplayFrom string `json:"replay_from"`
	EventFrom  string `json:"event_from"`
}

// Cutoffs returns the times before which data is expired at now; a zero
// time means keep forever.
func (p *Policy) Cutoffs(now time.Time) (replay, events time.Time) {
	if p.ReplayDays > 0 {
		replay = now.Add(-time.Duration(p.ReplayDays) * Day)
	}
	if p.EventDays > 0 {
		events = now.Add(-time.Duration(p.EventDays) * Day)
	}
	return replay, events
}

// Policy returns the retention in force for a project.
func (s *Service) Policy(ctx context.Context, projectID string) (*Policy, error) {
	p, err := s.Store.FindProjectByID(ctx, projectID)
	if err != nil {
		return nil, err
	}
	pol := &Policy{ProjectID: p.ID, ReplayFrom: "default", EventFrom: "default"}
	for _, scope := range []string{"", p.ID} { // org default first, project overrides
		r, err := s.Store.FindRetention(ctx, p.OrgID, scope)
		if veil.ErrorCode(err) == veil.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		from := "org"
		if scope != "" {
			from = "project"
		}
		if r.ReplayDays != nil {
			pol.ReplayDays, pol.ReplayFrom = *r.ReplayDays, from
		}
		if r.EventDays != nil {
			pol.EventDays, pol.EventFrom = *r.EventDays, from
		}
	}
	return pol, nil
}

// SetRetention stores a retention setting (ProjectID "" for the org
// default) and audit-logs the change.
func (s *Service) SetRetention(ctx context.Context, r *store.Retention) error {
	if r.ProjectID != "" {
		p, err := s.Store.FindProjectByID(ctx, r.ProjectID)
		if err != nil {
			return err
		}
		if r.OrgID == "" {
			r.OrgID = p.OrgID
		} else if r.OrgID != p.OrgID {
			return veil.Errorf(veil.ENOTFOUND, "Project not found.")
		}
	}
	if err := s.Store.SetRetention(ctx, r); err != nil {
		return err
	}
	d := map[string]string{"replay_days": daysText(r.ReplayDays), "event_days": daysText(r.EventDays)}
	kind, id := "org", r.OrgID
	if r.ProjectID != "" {
		kind, id = "project", r.ProjectID
	}
	_, err := s.record(ctx, audit.Entry{OrgID: r.OrgID, Action: ActionRetentionSet, ObjectKind: kind, ObjectID: id, Details: d})
	return err
}

func daysText(d *int) string {
	if d == nil {
		return "inherit"
	}
	return strconv.Itoa(*d)
}

// Preview is what the retention job would delete from a project now.
type Preview struct {
	Policy       *Policy   `json:"policy"`
	ReplayCutoff time.Time `json:"replay_cutoff,omitzero"`
	EventCutoff  time.Time `json:"event_cutoff,omitzero"`
	store.RetentionStats
}

// Preview counts what the retention job would delete from the project if
// it ran now, without deleting anything.
func (s *Service) Preview(ctx context.Context, projectID string) (*Preview, error) {
	pol, err := s.Policy(ctx, projectID)
	if err != nil {
		return nil, err
	}
	return s.PreviewPolicy(ctx, pol)
}

// PreviewPolicy counts what pol would delete from its project now (for a
// dry run of a new setting).
func (s *Service) PreviewPolicy(ctx context.Context, pol *Policy) (*Preview, error) {
	projectID := pol.ProjectID
	rc, ec := pol.Cutoffs(s.now())
	st, err := s.Store.CountExpired(ctx, projectID, rc, ec)
	if err != nil {
		return nil, err
	}
	return &Preview{Policy: pol, ReplayCutoff: rc, EventCutoff: ec, RetentionStats: *st}, nil
}

// RetentionResult says what one retention run deleted.
type RetentionResult struct {
	Projects     int   `json:"projects"`
	Sessions     int64 `json:"sessions"`
	EventBatches int64 `json:"event_batches"`
	Events       int64 `json:"events"`
	// More is set when a bound was reached and expired data remains.
	More bool `json:"more"`
}

// RunRetention deletes, in every project, sessions last seen and event
// batches whose newest event are older than the project's retention:
// sessions are crypto-shredded as DeleteSession does, batch objects are
// deleted then unindexed. It holds LeaseRetention (ErrLeaseHeld when
// another node has it), deletes at most maxItems sessions plus batches per
// project (<= 0: no bound), and writes one audit entry per project that
// lost data. Compaction of the freed pack bytes is Compact's job.
func (s *Service) RunRetention(ctx context.Context, holder string, maxItems int) (*RetentionResult, error) {
	res := &RetentionResult{}
	err := s.withLease(ctx, LeaseRetention, holder, func() error {
		projects, err := s.Store.ListProjects(ctx, "")
		if err != nil {
			return err
		}
		for _, p := range projects {
			if err := s.renewLease(ctx, LeaseRetention, holder); err != nil {
				return err
			}
			if err := s.retainProject(ctx, p.ID, holder, maxItems, res); err != nil {
				return fmt.Errorf("retention for project %s: %w", p.ID, err)
			}
			res.Projects++
		}
		return nil
	})
	s.Metrics.outcome("retention", err)
	return res, err
}

func (s *Service) retainProject(ctx context.Context, projectID, holder string, maxItems int, res *RetentionResult) error {
	pol, err := s.Policy(ctx, projectID)
	if err != nil {
		return err
	}
	rc, ec := pol.Cutoffs(s.now())
	if rc.IsZero() && ec.IsZero() {
		return nil
	}
	p, err := s.project(ctx, projectID)
	if err != nil {
		return err
	}
	var sessions, batches, events, n int64
	budget := func() bool { return maxItems <= 0 || n < int64(maxItems) }
	for !rc.IsZero() && budget() {
		if err := s.renewLease(ctx, LeaseRetention, holder); err != nil {
			return err
		}
		list, err := s.Store.ListSessionsSeenBefore(ctx, projectID, rc, s.batch())
		if err != nil {
			return err
		}
		for _, ss := range list {
			if !budget() {
				break
			}
			if _, err := s.shred(ctx, p, ss.ID, ReasonRetention); err != nil && veil.ErrorCode(err) != veil.ENOTFOUND {
				return err
			}
			sessions++
			n++
		}
		if len(list) < s.batch() {
			break
		}
	}
	for !ec.IsZero() && budget() {
		if err := s.renewLease(ctx, LeaseRetention, holder); err != nil {
			return err
		}
		list, err := s.Store.ListEventBatchesBefore(ctx, projectID, ec, s.batch())
		if err != nil {
			return err
		}
		for _, b := range list {
			if !budget() {
				break
			}
			// The object first: a crash then leaves an index entry whose
			// object is gone, which the next run removes.
			if err := s.Blobs.Delete(ctx, b.BlobKey); err != nil {
				return err
			}
			if err := s.Store.DeleteEventBatch(ctx, projectID, b.ID); err != nil && veil.ErrorCode(err) != veil.ENOTFOUND {
				return err
			}
			batches++
			events += int64(b.Count)
			n++
		}
		if len(list) < s.batch() {
			break
		}
	}
	s.Metrics.deleted(ReasonRetention, 0, batches, events)
	res.Sessions += sessions
	res.EventBatches += batches
	res.Events += events
	if !budget() {
		res.More = true
	}
	if sessions+batches == 0 {
		return nil
	}
	_, err = s.record(ctx, audit.Entry{OrgID: p.orgID, Action: ActionRetentionPurge, ObjectKind: "project", ObjectID: projectID,
		Actor: &audit.Actor{Kind: audit.ActorSystem, ID: "retention"},
		Details: map[string]string{"sessions": strconv.FormatInt(sessions, 10), "event_batches": strconv.FormatInt(batches, 10),
			"events": strconv.FormatInt(events, 10), "replay_days": strconv.Itoa(pol.ReplayDays), "event_days": strconv.Itoa(pol.EventDays)}})
	return err
}

// Job runs retention then compaction every Interval until its context
// ends. Every node may run a Job: the leases let one node work at a time.
type Job struct {
	Service  *Service
	Holder   string        // this node's lease holder name
	Interval time.Duration // default 1h
	MaxItems int           // per project per run; default 10000
	// RecompressAfter: age of the packs whose S2 segments each run
	// re-seals with zstd (0 = no recompression).
	RecompressAfter time.Duration
}

// Run loops until ctx ends; it returns ctx's error.
func (j *Job) Run(ctx context.Context) error {
	if j.Interval <= 0 {
		j.Interval = time.Hour
	}
	if j.MaxItems <= 0 {
		j.MaxItems = 10000
	}
	t := time.NewTicker(j.Interval)
	defer t.Stop()
	for {
		j.Once(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Once runs retention, compaction and recompression one time, logging
// failures.
func (j *Job) Once(ctx context.Context) {
	log := j.Service.log()
	if r, err := j.Service.RunRetention(ctx, j.Holder, j.MaxItems); err != nil && !errors.Is(err, ErrLeaseHeld) {
		log.Error("retention job failed; will retry", "err", err)
	} else if err == nil && r.Sessions+r.EventBatches > 0 {
		log.Info("retention deleted expired data", "sessions", r.Sessions, "event_batches", r.EventBatches, "events", r.Events, "more", r.More)
	}
	if _, err := j.Service.Compact(ctx, j.Holder, 1000); err != nil && !errors.Is(err, ErrLeaseHeld) {
		log.Error("compaction job failed; will retry", "err", err)
	}
	if j.RecompressAfter > 0 {
		r, err := j.Service.Recompress(ctx, j.Holder, j.RecompressAfter, 1000)
		if err != nil && !errors.Is(err, ErrLeaseHeld) {
			log.Error("recompression job failed; will retry", "err", err)
		} else if err == nil && r.Segments > 0 {
			log.Info("recompressed replay segments", "packs", r.Packs, "segments", r.Segments,
				"bytes_before", r.BytesBefore, "bytes_after", r.BytesAfter, "more", r.More)
		}
	}
}

// policyFrom resolves a project's policy from an org default and a
// project setting (either may be nil).
func policyFrom(projectID string, org, proj *store.Retention) *Policy {
	pol := &Policy{ProjectID: projectID, ReplayFrom: "default", EventFrom: "default"}
	for _, sc := range []struct {
		r    *store.Retention
		from string
	}{{org, "org"}, {proj, "project"}} {
		if sc.r == nil {
			continue
		}
		if sc.r.ReplayDays != nil {
			pol.ReplayDays, pol.ReplayFrom = *sc.r.ReplayDays, sc.from
		}
		if sc.r.EventDays != nil {
			pol.EventDays, pol.EventFrom = *sc.r.EventDays, sc.from
		}
	}
	return pol
}

// RetentionSetting returns the stored setting of a project (projectID
// set) or an org default; one never set has both days nil.
func (s *Service) RetentionSetting(ctx context.Context, orgID, projectID string) (*store.Retention, error) {
	r, err := s.Store.FindRetention(ctx, orgID, projectID)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		return &store.Retention{OrgID: orgID, ProjectID: projectID}, nil
	}
	return r, err
}

// MaxRetentionDays bounds a retention setting (100 years).
const MaxRetentionDays = 36500

// ValidateRetention checks a setting's day counts.
func ValidateRetention(r *store.Retention) error {
	for _, d := range []*int{r.ReplayDays, r.EventDays} {
		if d != nil && (*d < 0 || *d > MaxRetentionDays) {
			return veil.Errorf(veil.EINVALID, "Retention is a number of days from 0 (keep forever) to %d, or null to inherit.", MaxRetentionDays)
		}
	}
	return nil
}

// RetentionImpact is what a retention setting would delete now, per
// project it governs, and in total.
type RetentionImpact struct {
	Setting  *store.Retention     `json:"setting"`
	Applied  bool                 `json:"applied"`
	Projects []*Preview           `json:"projects"`
	Total    store.RetentionStats `json:"total"`
}

// ProposeRetention counts what r (a project setting, or an org default
// when r.ProjectID is "") would make the retention job delete right now,
// without storing anything. For an org default, projects that override a
// value keep their own.
func (s *Service) ProposeRetention(ctx context.Context, r *store.Retention) (*RetentionImpact, error) {
	if err := ValidateRetention(r); err != nil {
		return nil, err
	}
	var projects []*veil.Project
	if r.ProjectID != "" {
		p, err := s.Store.FindProjectByID(ctx, r.ProjectID)
		if err != nil {
			return nil, err
		}
		if p.OrgID != r.OrgID {
			return nil, veil.Errorf(veil.ENOTFOUND, "Project not found.")
		}
		projects = []*veil.Project{p}
	} else {
		var err error
		if projects, err = s.Store.ListProjects(ctx, r.OrgID); err != nil {
			return nil, err
		}
	}
	out := &RetentionImpact{Setting: r, Projects: []*Preview{}}
	for _, p := range projects {
		org, proj := r, (*store.Retention)(nil)
		if r.ProjectID != "" {
			o, err := s.RetentionSetting(ctx, p.OrgID, "")
			if err != nil {
				return nil, err
			}
			org, proj = o, r
		} else if ps, err := s.RetentionSetting(ctx, p.OrgID, p.ID); err != nil {
			return nil, err
		} else {
			proj = ps
		}
		pv, err := s.PreviewPolicy(ctx, policyFrom(p.ID, org, proj))
		if err != nil {
			return nil, err
		}
		out.Projects = append(out.Projects, pv)
		out.Total.Sessions += pv.Sessions
		out.Total.ReplayBytes += pv.ReplayBytes
		out.Total.EventBatches += pv.EventBatches
		out.Total.Events += pv.Events
		out.Total.EventBytes += pv.EventBytes
	}
	return out, nil
}

// FindSession returns a session of a project (ENOTFOUND if missing).
func (s *Service) FindSession(ctx context.Context, projectID, sessionID string) (*veil.Session, error) {
	return s.Store.FindSession(ctx, projectID, sessionID)
}
