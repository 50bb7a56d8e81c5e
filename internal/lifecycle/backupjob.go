package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/blob"
)

// Leases of the scheduled backup job. LeaseBackup makes one node at a
// time run it; LeaseBackupPeriod, taken with a TTL of the interval by the
// run that made the last backup, says whether a backup is due: while it
// is held no node starts another.
const (
	LeaseBackup       = "lifecycle.backup"
	LeaseBackupPeriod = "lifecycle.backup.period"
)

// ActionBackupPrune is the audit action of deleting old scheduled backups.
const ActionBackupPrune = "backup.prune"

// ScheduledPrefix starts the name of every backup the job writes:
// <target>/veil-backup-<UTC time>/…
const ScheduledPrefix = "veil-backup-"

const scheduledLayout = "20060102T150405.000Z"

// BackupJob makes a backup every Every into Target, each under its own
// prefix, and keeps the newest Keep complete Veil backups there (those
// with a valid backup.json; nothing else in Target is touched, except
// incomplete backups the job itself left, named ScheduledPrefix…).
type BackupJob struct {
	Service *Service
	Target  blob.Bucket
	Dialect string
	// Dump writes a consistent database copy to a local file.
	Dump   func(ctx context.Context, path string) error
	Every  time.Duration
	Keep   int           // <= 0: keep every backup
	Holder string        // this node's lease holder name
	Check  time.Duration // how often Run asks whether a backup is due; default min(Every/4, 1m)
	// RetryAfter is how long a failed run waits before the next attempt
	// (default min(Every, 5m)).
	RetryAfter time.Duration
}

// BackupRun says what one RunOnce did.
type BackupRun struct {
	Ran      bool          `json:"ran"`    // a backup was written
	Reason   string        `json:"reason"` // when not: "not due", "another node is running it"
	Name     string        `json:"name,omitempty"`
	ID       string        `json:"id,omitempty"`
	Files    int           `json:"files,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	Pruned   []string      `json:"pruned,omitempty"`
}

// Run calls RunOnce every Check until ctx ends; it returns ctx's error.
func (j *BackupJob) Run(ctx context.Context) error {
	check := j.Check
	if check <= 0 {
		check = min(j.Every/4, time.Minute)
	}
	check = max(check, 10*time.Millisecond)
	t := time.NewTicker(check)
	defer t.Stop()
	for {
		if _, err := j.RunOnce(ctx, false); err != nil && ctx.Err() == nil {
			j.Service.log().Error("scheduled backup failed; will retry", "err", err, "retry_after", j.retryAfter())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (j *BackupJob) retryAfter() time.Duration {
	if j.RetryAfter > 0 {
		return j.RetryAfter
	}
	return max(min(j.Every, 5*time.Minute), time.Millisecond)
}

// RunOnce makes a backup if one is due (or force is set) and no other
// node is making one, then deletes backups beyond the newest Keep.
func (j *BackupJob) RunOnce(ctx context.Context, force bool) (*BackupRun, error) {
	s := j.Service
	run := &BackupRun{}
	if audit.ActorFrom(ctx) == nil {
		ctx = audit.WithActor(ctx, audit.Actor{Kind: audit.ActorSystem, ID: "backup"})
	}
	err := s.withLease(ctx, LeaseBackup, j.Holder, func() error {
		// Keep the lease for as long as the backup takes; stop if it is lost.
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		go func() {
			t := time.NewTicker(leaseTTL / 3)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := s.renewLease(ctx, LeaseBackup, j.Holder); err != nil && ctx.Err() == nil {
						cancel(fmt.Errorf("backup lease lost: %w", err))
						return
					}
				}
			}
		}()
		start := s.now()
		name := ScheduledPrefix + start.UTC().Format(scheduledLayout)
		period := "period/" + name + "/" + j.Holder
		if !force {
			ok, err := s.Store.AcquireLease(ctx, LeaseBackupPeriod, period, max(j.Every, time.Millisecond))
			if err != nil {
				return err
			}
			if !ok {
				run.Reason = "not due"
				return nil
			}
		}
		m, err := s.CreateBackup(ctx, Sub(j.Target, name), j.Dialect, j.Dump)
		if err != nil {
			// Hold off every node for RetryAfter, not a whole period.
			release := context.WithoutCancel(ctx)
			s.Store.ReleaseLease(release, LeaseBackupPeriod, period)
			s.Store.AcquireLease(release, LeaseBackupPeriod, period+"/retry", j.retryAfter())
			return fmt.Errorf("backup %s: %w", name, err)
		}
		if force {
			// A forced backup also starts a new period.
			s.Store.ReleaseLease(ctx, LeaseBackupPeriod, period)
			s.Store.AcquireLease(ctx, LeaseBackupPeriod, period, max(j.Every, time.Millisecond))
		}
		run.Ran, run.Name, run.ID, run.Files = true, name, m.ID, len(m.Entries)
		run.Duration = s.now().Sub(start)
		s.Metrics.backupDone(s.now(), run.Duration)
		run.Pruned, err = j.Prune(ctx, name)
		return err
	})
	switch {
	case errors.Is(err, ErrLeaseHeld):
		run.Reason = "another node is running it"
		s.Metrics.run("backup", "skipped")
		return run, nil
	case err != nil:
		s.Metrics.run("backup", "error")
		s.Metrics.backupFailed()
		return run, err
	case run.Ran:
		s.Metrics.run("backup", "ok")
	}
	return run, nil
}

// StoredBackup is one complete Veil backup found in a target.
type StoredBackup struct {
	Name   string        `json:"name"` // its prefix in the target
	Header *BackupHeader `json:"header"`
}

// ListBackups returns the complete Veil backups directly under target
// (one per top-level prefix holding a valid backup.json), newest first,
// and the top-level prefixes that hold no valid backup.json.
func ListBackups(ctx context.Context, target blob.Bucket) (complete []StoredBackup, other []string, err error) {
	seen := map[string]bool{}
	var names []string
	err = target.List(ctx, "", func(i blob.Info) error {
		top, _, ok := strings.Cut(i.Key, "/")
		if ok && !seen[top] {
			seen[top] = true
			names = append(names, top)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list backups: %w", err)
	}
	for _, n := range names {
		h, err := ReadBackupHeader(ctx, Sub(target, n))
		if err != nil {
			other = append(other, n)
			continue
		}
		complete = append(complete, StoredBackup{Name: n, Header: h})
	}
	slices.SortFunc(complete, func(a, b StoredBackup) int { return b.Header.CreatedAt.Compare(a.Header.CreatedAt) })
	return complete, other, nil
}

// Prune deletes the complete backups beyond the newest Keep, and
// incomplete ones this job left (named ScheduledPrefix…, other than
// current, begun a day ago or more), and audit-logs what it deleted. Call it holding LeaseBackup.
func (j *BackupJob) Prune(ctx context.Context, current string) ([]string, error) {
	complete, other, err := ListBackups(ctx, j.Target)
	if err != nil {
		return nil, err
	}
	var doomed []string
	if j.Keep > 0 && len(complete) > j.Keep {
		for _, b := range complete[j.Keep:] {
			doomed = append(doomed, b.Name)
		}
	}
	for _, n := range other {
		// A run that died half-way, a day ago or more (so never one that
		// is still being written).
		at, err := time.Parse(scheduledLayout, strings.TrimPrefix(n, ScheduledPrefix))
		if strings.HasPrefix(n, ScheduledPrefix) && n != current && err == nil && j.Service.now().Sub(at) > 24*time.Hour {
			doomed = append(doomed, n)
		}
	}
	var deleted []string
	for _, n := range doomed {
		sub := Sub(j.Target, n)
		var keys []string
		if err := sub.List(ctx, "", func(i blob.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
			return deleted, err
		}
		// backup.json first: a half-deleted backup is then incomplete, not damaged.
		slices.SortStableFunc(keys, func(a, b string) int {
			return boolInt(b == "backup.json") - boolInt(a == "backup.json")
		})
		for _, k := range keys {
			if err := sub.Delete(ctx, k); err != nil {
				return deleted, fmt.Errorf("delete old backup %s: %w", n, err)
			}
		}
		deleted = append(deleted, n)
	}
	if len(deleted) > 0 {
		_, err = j.Service.record(ctx, audit.Entry{Action: ActionBackupPrune, ObjectKind: "backup", ObjectID: deleted[0],
			Actor:   &audit.Actor{Kind: audit.ActorSystem, ID: "backup"},
			Details: map[string]string{"deleted": strconv.Itoa(len(deleted)), "names": strings.Join(deleted, ","), "keep": strconv.Itoa(j.Keep)}})
	}
	return deleted, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
