package destination_test

import (
	"context"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/testenv"
)

// TestPause: a paused do_not_store destination (on both store dialects)
// gets nothing and Veil keeps the recording; resumed, it catches up and the
// local copy goes. Another project's destination cannot be paused.
func TestPause(t *testing.T) { dialects(t, testPause) }

func testPause(t *testing.T, dsn string) {
	ctx := context.Background()
	e := newEnvOn(t, dsn)
	priv, pub := clientKey(t)
	srv := testenv.SFTP(t, pub)
	d, err := e.svc.Create(ctx, e.project.ProjectID, sftpInput(srv, destination.ModeDoNotStore, priv, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetPaused(ctx, "prj_other", d.ID, true); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("pause under another project: %v", err)
	}
	v, err := e.svc.SetPaused(ctx, e.project.ProjectID, d.ID, true)
	if err != nil || v.PausedAt == nil {
		t.Fatalf("pause: %+v %v", v, err)
	}
	e.replay("ses_paused1", 0)
	e.pack()
	e.clock.Advance(destination.DefaultIdleTimeout + time.Minute)
	if r := e.run(); r.Enqueued+r.Pushed+r.Failed+r.Deleted != 0 {
		t.Fatalf("run while paused = %+v", r)
	}
	if _, err := e.replayText("ses_paused1"); err != nil {
		t.Fatalf("paused destination, but the local copy is gone: %v", err)
	}
	if v, err = e.svc.SetPaused(ctx, e.project.ProjectID, d.ID, false); err != nil || v.PausedAt != nil {
		t.Fatalf("resume: %+v %v", v, err)
	}
	if r := e.run(); r.Pushed != 1 || r.Deleted != 1 {
		t.Fatalf("run after resuming = %+v", r)
	}
	if _, err := e.replayText("ses_paused1"); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("after the push the local copy should be gone: %v", err)
	}
}
