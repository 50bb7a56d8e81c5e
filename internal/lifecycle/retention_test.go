package lifecycle_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/store"
)

func TestRetention(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pid, org := e.project.ProjectID, e.project.OrgID
	fresh := day0.Add(39 * lifecycle.Day)
	for i, sid := range []string{"old-session-0001", "old-session-0002", "old-session-0003"} {
		e.replay(sid, 1, "u-old", day0.Add(time.Duration(i)*time.Minute))
	}
	e.replay("new-session-0001", 1, "u-new", fresh)
	e.track("u-old", "a-1", "Old Event", day0)
	e.pack()
	e.track("u-new", "a-2", "New Event", fresh)
	e.pack()
	e.clock.Advance(40 * lifecycle.Day)

	// Nothing is set: keep forever.
	pv, err := e.svc.Preview(ctx, pid)
	if err != nil || pv.Sessions != 0 || pv.EventBatches != 0 || pv.Policy.ReplayFrom != "default" {
		t.Fatalf("preview without policy = %+v, %v", pv, err)
	}
	d30, d35 := 30, 35
	if err := e.svc.SetRetention(ctx, &store.Retention{OrgID: org, ReplayDays: &d30, EventDays: &d30}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetRetention(ctx, &store.Retention{ProjectID: pid, EventDays: &d35}); err != nil {
		t.Fatal(err)
	}
	pol, err := e.svc.Policy(ctx, pid)
	if err != nil || pol.ReplayDays != 30 || pol.ReplayFrom != "org" || pol.EventDays != 35 || pol.EventFrom != "project" {
		t.Fatalf("policy = %+v, %v", pol, err)
	}
	pv, err = e.svc.Preview(ctx, pid)
	if err != nil || pv.Sessions != 3 || pv.ReplayBytes == 0 || pv.EventBatches != 1 || pv.Events != 1 {
		t.Fatalf("preview = %+v, %v", pv, err)
	}
	if n, _ := e.db.ListSessions(ctx, pid, 0); len(n) != 4 {
		t.Fatal("preview deleted something")
	}

	// Another node holds the lease: this one skips.
	e.db.AcquireLease(ctx, lifecycle.LeaseRetention, "other", time.Hour)
	if _, err := e.svc.RunRetention(ctx, "me", 0); !errors.Is(err, lifecycle.ErrLeaseHeld) {
		t.Fatalf("run under another lease: %v", err)
	}
	e.db.ReleaseLease(ctx, lifecycle.LeaseRetention, "other")

	// Bounded: two items per run (BatchSize is 2 as well).
	r, err := e.svc.RunRetention(ctx, "me", 2)
	if err != nil || r.Sessions != 2 || !r.More {
		t.Fatalf("first bounded run = %+v, %v", r, err)
	}
	r, err = e.svc.RunRetention(ctx, "me", 2)
	if err != nil || r.Sessions != 1 || r.EventBatches != 1 || r.Events != 1 {
		t.Fatalf("second run = %+v, %v", r, err)
	}
	if r, err := e.svc.RunRetention(ctx, "me", 2); err != nil || r.Sessions+r.EventBatches != 0 || r.More {
		t.Fatalf("third run = %+v, %v", r, err)
	}
	left, _ := e.db.ListSessions(ctx, pid, 0)
	if len(left) != 1 || left[0].ID != "new-session-0001" {
		t.Fatalf("sessions left = %v", left)
	}
	if _, err := e.replayText("old-session-0001"); err == nil {
		t.Fatal("expired session still exports")
	}
	ev := e.eventsText()
	if strings.Contains(ev, "Old Event") || !strings.Contains(ev, "New Event") {
		t.Fatalf("events after retention:\n%s", ev)
	}
	if cr, err := e.svc.Compact(ctx, "me", 0); err != nil || cr.Reclaimed == 0 {
		t.Fatalf("compact after retention = %+v, %v", cr, err)
	}
	if txt, err := e.replayText("new-session-0001"); err != nil || !strings.Contains(txt, "segment-new-session-0001-1") {
		t.Fatalf("kept session: %v %s", err, txt)
	}
	acts := e.auditActions()
	if !slices.Contains(acts, lifecycle.ActionRetentionSet) || !slices.Contains(acts, lifecycle.ActionRetentionPurge) {
		t.Fatalf("audit actions = %v", acts)
	}
	if v := counterSum(t, e, "veil_lifecycle_sessions_deleted_total"); v != 3 {
		t.Fatalf("sessions deleted counter = %v", v)
	}
	// Bad values are refused.
	bad := -3
	if err := e.svc.SetRetention(ctx, &store.Retention{ProjectID: pid, ReplayDays: &bad}); err == nil {
		t.Fatal("negative retention accepted")
	}
}

// counterSum adds up every series of a counter family.
func counterSum(t *testing.T, e *env, name string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func TestJobOnceRetainsThenCompacts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.replay("expiring-session-1", 1, "", day0)
	e.replay("staying-session-1", 1, "", day0.Add(10*lifecycle.Day))
	e.pack()
	segs, _ := e.db.ListSegments(ctx, e.project.ProjectID, "expiring-session-1")
	sealed, err := e.blobs.GetRange(ctx, segs[0].BlobKey, segs[0].Offset, segs[0].Length)
	if err != nil {
		t.Fatal(err)
	}
	d7 := 7
	if err := e.svc.SetRetention(ctx, &store.Retention{ProjectID: e.project.ProjectID, ReplayDays: &d7}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(12 * lifecycle.Day)
	(&lifecycle.Job{Service: e.svc, Holder: "node-1"}).Once(ctx)
	if _, err := e.replayText("expiring-session-1"); err == nil {
		t.Fatal("expired session survived the job")
	}
	if _, err := e.replayText("staying-session-1"); err != nil {
		t.Fatalf("session within retention: %v", err)
	}
	if e.blobDirContains(sealed) {
		t.Fatal("expired segment bytes still stored after the job")
	}
	if v := counterSum(t, e, "veil_lifecycle_job_runs_total"); v != 2 {
		t.Fatalf("job runs counted = %v, want 2 (retention, compaction)", v)
	}
}
