package destination_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/testenv"
)

// TestSFTP_LaterSegmentsArePart2: segments packed after a session was
// pushed go out as part 2, never overwriting part 1; a session deleted
// before its push is dropped from the queue, not retried forever.
func TestSFTP_LaterSegmentsArePart2(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	priv, pub := clientKey(t)
	srv := testenv.SFTP(t, pub)
	if _, err := e.svc.Create(ctx, e.project.ProjectID, sftpInput(srv, destination.ModeCopy, priv, "")); err != nil {
		t.Fatal(err)
	}
	e.replay("ses_parts01", 0)
	e.replay("ses_gone001", 0)
	e.pack()
	e.clock.Advance(time.Hour)
	// ses_gone001 is deleted after it was queued but before it is pushed.
	if n, err := e.db.EnqueuePushes(ctx, mustDest(t, e), e.clock.Now().Add(-time.Minute), e.clock.Now().Add(time.Minute), 10); err != nil || n != 2 {
		t.Fatalf("enqueue: %d %v", n, err)
	}
	if _, err := e.life.DeleteSession(ctx, e.project.ProjectID, "ses_gone001"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	if r := e.run(); r.Pushed != 1 || r.Failed != 0 {
		t.Fatalf("first run: %+v", r)
	}
	gone, _ := e.db.ListSessionPushes(ctx, e.project.ProjectID, "ses_gone001")
	if len(gone) != 1 || gone[0].State != store.PushGone {
		t.Fatalf("push of a deleted session: %+v", gone)
	}

	e.replay("ses_parts01", 1)
	e.pack()
	if r := e.run(); r.Pushed != 0 {
		t.Fatalf("pushed before the session was idle again: %+v", r)
	}
	e.clock.Advance(time.Hour)
	if r := e.run(); r.Pushed != 1 {
		t.Fatalf("second run: %+v", r)
	}
	dir := filepath.Join(srv.Root, "veil/out", e.project.ProjectID, time.Now().UTC().Format("2006/01/02"), "ses_parts01")
	p1 := gunzip(t, readPushed(t, filepath.Join(dir, "events.json.gz"), nil))
	p2 := gunzip(t, readPushed(t, filepath.Join(dir, "events.part-2.json.gz"), nil))
	if !strings.Contains(p1, canary+"-0") || strings.Contains(p1, canary+"-1") ||
		!strings.Contains(p2, canary+"-1") || strings.Contains(p2, canary+"-0") {
		t.Fatalf("parts:\n1: %.300s\n2: %.300s", p1, p2)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.part-2.json")); err != nil {
		t.Fatal(err)
	}
}

func mustDest(t *testing.T, e *env) *store.Destination {
	t.Helper()
	ds, err := e.db.ListDestinations(context.Background(), e.project.ProjectID)
	if err != nil || len(ds) != 1 {
		t.Fatalf("destinations: %v %v", ds, err)
	}
	return ds[0]
}

// TestBatches: with more idle sessions than one run takes, later runs
// take the rest (the enqueue watermark skips none), and a session that
// gets new segments while its part 1 is still pending gets part 2.
func TestBatches(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.svc.Batch = 2
	priv, pub := clientKey(t)
	srv := testenv.SFTP(t, pub)
	if _, err := e.svc.Create(ctx, e.project.ProjectID, sftpInput(srv, destination.ModeDoNotStore, priv, "")); err != nil {
		t.Fatal(err)
	}
	ids := []string{"ses_batch_1", "ses_batch_2", "ses_batch_3", "ses_batch_4", "ses_batch_5"}
	for _, sid := range ids {
		e.replay(sid, 0)
		e.pack()
		e.clock.Advance(time.Second)
	}
	e.clock.Advance(time.Hour)
	srv.Stop() // part 1 of everything stays pending
	for range 3 {
		e.run()
	}
	e.replay("ses_batch_1", 1) // new data while part 1 is pending
	e.pack()
	e.clock.Advance(time.Hour)
	srv.Restart()
	total := destination.RunResult{}
	for range 10 {
		e.clock.Advance(2 * time.Hour)
		r := e.run()
		total.Pushed += r.Pushed
		total.Deleted += r.Deleted
	}
	if total.Pushed != 6 || total.Deleted != 5 {
		t.Fatalf("pushed %d parts and deleted %d sessions, want 6 and 5", total.Pushed, total.Deleted)
	}
	for _, sid := range ids {
		if _, err := e.replayText(sid); err == nil {
			t.Fatalf("%s still stored", sid)
		}
	}
}
