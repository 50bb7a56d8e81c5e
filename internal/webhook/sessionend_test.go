package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/webhook"
)

// pack stores segment seq of a session the way the ingest packer does
// (CommitPack), creating the session first when new.
func (e *env) pack(t *testing.T, db *store.DB, sid string, seqs ...int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.FindSession(ctx, e.project.ID, sid); veil.ErrorCode(err) == veil.ENOTFOUND {
		if err := db.CreateSession(ctx, &veil.Session{ProjectID: e.project.ID, ID: sid, WrappedKey: []byte("k"),
			FirstSeen: e.clk.Now().Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	c := &veil.PackCommit{NodeID: "n1", LSN: 1}
	for _, seq := range seqs {
		first := e.clk.Now().Add(-time.Minute + time.Duration(seq)*time.Second)
		c.Segments = append(c.Segments, veil.PackedSegment{
			Segment: veil.Segment{ProjectID: e.project.ID, SessionID: sid, Seq: seq, BlobKey: "p/x/packs/pk_1",
				Length: 10, FirstTS: first, LastTS: first.Add(time.Second), Events: 5},
			Meta: veil.SegmentMeta{Errors: 1, URLPath: "/checkout", UserAgent: "Firefox", UserIndex: "ix"},
		})
	}
	if _, err := db.CommitPack(ctx, c); err != nil {
		t.Fatal(err)
	}
}

// outbox returns the project's queued payloads of type typ for endpoint ep.
func (e *env) outbox(t *testing.T, ep, typ string) []map[string]any {
	t.Helper()
	ms, err := e.db.ListWebhookMessages(context.Background(), e.project.ID, ep, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, m := range ms {
		if m.EventType != typ {
			continue
		}
		var p struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Data)
	}
	return out
}

func (e *env) ender(db *store.DB, holder string) *webhook.SessionEnder {
	return &webhook.SessionEnder{Store: db, Holder: holder, Idle: 30 * time.Minute, Now: e.clk.Now, Batch: 2}
}

func TestSessionLifecycleEvents(t *testing.T) { dialects(t, testSessionLifecycle) }

func testSessionLifecycle(t *testing.T, e *env) {
	ctx := context.Background()
	ep, _ := e.endpoint(t, "https://hooks.example/in", webhook.SessionStarted, webhook.SessionEnded)

	// session.started: once, when the first segment is stored, whatever
	// the number of segments, rounds or replays of the same segment.
	e.pack(t, e.db, "ses-aaaaaaaa", 0, 1)
	e.pack(t, e.db, "ses-aaaaaaaa", 1, 2) // seq 1 replayed: a no-op
	e.pack(t, e.db, "ses-bbbbbbbb", 0)
	started := e.outbox(t, ep.ID, webhook.SessionStarted)
	if len(started) != 2 {
		t.Fatalf("%d session.started, want 2: %v", len(started), started)
	}
	for _, d := range started {
		if d["project_id"] != e.project.ID || d["url_path"] != "/checkout" || d["user_agent_family"] != "Firefox" || d["started_at"] == nil {
			t.Errorf("session.started data %v", d)
		}
		if _, ok := d["user_index"]; ok {
			t.Errorf("session.started carries the user index: %v", d)
		}
	}

	// Not idle yet: nothing ends.
	e.clk.Advance(29 * time.Minute)
	if n, err := e.ender(e.db, "node-a").RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("before the timeout: ended %d, %v", n, err)
	}
	// A third session keeps going (a segment stored 20 minutes later).
	e.pack(t, e.db, "ses-cccccccc", 0)
	e.clk.Advance(2 * time.Minute)
	// Two "nodes" on two connections: the lease gives the work to one,
	// and each session ends exactly once.
	other := e.reopenShared(t)
	a, b := e.ender(e.db, "node-a"), e.ender(other, "node-b")
	na, errA := a.RunOnce(ctx)
	nb, errB := b.RunOnce(ctx)
	if errA != nil || !errors.Is(errB, webhook.ErrLeaseHeld) || na != 2 || nb != 0 {
		t.Fatalf("node a ended %d (%v), node b %d (%v)", na, errA, nb, errB)
	}
	// Even without the lease (it expired), ending is idempotent.
	e.clk.Advance(10 * time.Minute)
	if n, err := b.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("second run ended %d more (%v)", n, err)
	}
	ended := e.outbox(t, ep.ID, webhook.SessionEnded)
	if len(ended) != 2 {
		t.Fatalf("%d session.ended, want 2: %v", len(ended), ended)
	}
	for _, d := range ended {
		raw, _ := json.Marshal(d)
		var sd webhook.SessionEndedData
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sd); err != nil {
			t.Fatalf("session.ended data %s does not match webhook.SessionEndedData: %v", raw, err)
		}
		if sd.SessionID == "ses-aaaaaaaa" && (sd.Segments != 3 || sd.Events != 15 || sd.Errors != 3) {
			t.Errorf("counts %+v", sd)
		}
		if sd.DurationMS != sd.EndedAt.Sub(sd.StartedAt).Milliseconds() || sd.DurationMS <= 0 {
			t.Errorf("duration %+v", sd)
		}
	}
	if at, err := e.db.SessionEnded(ctx, e.project.ID, "ses-cccccccc"); err != nil || at != nil {
		t.Fatalf("active session ended at %v (%v)", at, err)
	}
	// Data arriving after the end is stored but does not reopen it.
	e.pack(t, e.db, "ses-aaaaaaaa", 3)
	e.clk.Advance(time.Hour)
	if n, err := b.RunOnce(ctx); err != nil || n != 1 { // only ses-cccccccc
		t.Fatalf("late run ended %d (%v)", n, err)
	}
	if got := len(e.outbox(t, ep.ID, webhook.SessionEnded)); got != 3 {
		t.Fatalf("%d session.ended in all, want 3", got)
	}
}

// reopenShared opens a second handle on the same database (a second node).
func (e *env) reopenShared(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), e.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = e.clk.Now
	return db
}

// TestSessionStarted_NoSubscriberNoMessage: endpoints that do not accept
// session.started get nothing.
func TestSessionStarted_NoSubscriberNoMessage(t *testing.T) {
	e := newEnv(t)
	ep, _ := e.endpoint(t, "https://hooks.example/in", webhook.KeyRevoked)
	e.pack(t, e.db, "ses-dddddddd", 0)
	if got := e.outbox(t, ep.ID, webhook.SessionStarted); len(got) != 0 {
		t.Fatalf("unsubscribed endpoint got %v", got)
	}
}

// TestBacklogMetrics: the outbox backlog and its age are exported, and
// drop to zero once delivered.
func TestBacklogMetrics(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, 200)
	e.endpoint(t, rc.URL)
	reg := prometheus.NewRegistry()
	webhook.RegisterBacklog(reg, e.db, e.clk.Now)
	gauge := func(name string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatalf("no metric %s", name)
		return 0
	}
	e.emit(t, webhook.Test)
	e.emit(t, webhook.Test)
	e.clk.Advance(90 * time.Second)
	if n, age := gauge("veil_webhook_pending_messages"), gauge("veil_webhook_oldest_pending_seconds"); n != 2 || age != 90 {
		t.Fatalf("pending %v, oldest %v s; want 2, 90", n, age)
	}
	runOnce(t, e.worker(true))
	if n, age := gauge("veil_webhook_pending_messages"), gauge("veil_webhook_oldest_pending_seconds"); n != 0 || age != 0 {
		t.Fatalf("after delivery: pending %v, oldest %v s", n, age)
	}
}

// TestSessionStarted_RolledBackCommitQueuesNothing: session.started is part
// of the packer's transaction; a commit that fails leaves no message, and
// the retried commit sends it once.
func TestSessionStarted_RolledBackCommitQueuesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ep, _ := e.endpoint(t, "https://hooks.example/in", webhook.SessionStarted)
	if err := e.db.CreateSession(ctx, &veil.Session{ProjectID: e.project.ID, ID: "ses-eeeeeeee", WrappedKey: []byte("k")}); err != nil {
		t.Fatal(err)
	}
	seg := veil.PackedSegment{Segment: veil.Segment{ProjectID: e.project.ID, SessionID: "ses-eeeeeeee", Seq: 0, BlobKey: "p/x/packs/pk_1",
		Length: 10, FirstTS: e.clk.Now(), LastTS: e.clk.Now(), Events: 1}}
	// A batch whose id is already stored makes the commit fail and roll
	// back (a batch of a project deleted since no longer does: such
	// batches are dropped).
	batch := func() *veil.EventBatch {
		return &veil.EventBatch{ID: "evb_taken", ProjectID: e.project.ID, BlobKey: "p/x/events/x", Count: 1, MinTime: e.clk.Now(), MaxTime: e.clk.Now()}
	}
	if _, err := e.db.CommitPack(ctx, &veil.PackCommit{NodeID: "n0", LSN: 1, Batches: []*veil.EventBatch{batch()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CommitPack(ctx, &veil.PackCommit{NodeID: "n1", LSN: 1, Segments: []veil.PackedSegment{seg}, Batches: []*veil.EventBatch{batch()}}); err == nil {
		t.Fatal("commit with a batch id already stored succeeded")
	}
	if got := e.outbox(t, ep.ID, webhook.SessionStarted); len(got) != 0 {
		t.Fatalf("rolled-back commit queued %v", got)
	}
	if _, err := e.db.CommitPack(ctx, &veil.PackCommit{NodeID: "n1", LSN: 1, Segments: []veil.PackedSegment{seg}}); err != nil {
		t.Fatal(err)
	}
	if got := e.outbox(t, ep.ID, webhook.SessionStarted); len(got) != 1 {
		t.Fatalf("%d session.started after the retried commit, want 1", len(got))
	}
}
