package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/scrub"
)

// spyStore records what the packer asks CommitPack to restore.
type spyStore struct {
	ingest.Store
	restored []string
}

func (s *spyStore) CommitPack(ctx context.Context, c *veil.PackCommit) (int, error) {
	for _, r := range c.Restore {
		s.restored = append(s.restored, r.ID)
	}
	return s.Store.CommitPack(ctx, c)
}

// TestSessionRowRestoredFromLog: a new session's row is written without an
// fsync of its own; its wrapped key travels in each segment's log record.
// When the row is lost (a power cut: simulated by deleting it and
// restarting with empty caches), the packer creates it again from the
// record, with the same key, and the segment replays. A session deleted on
// purpose (crypto-shredded, in the deletion ledger) is not brought back.
// In the running process nothing is restored: its rows are known.
func TestSessionRowRestoredFromLog(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	upload := func(sid string) string {
		t.Helper()
		marker := "marker-" + sid
		body := fmt.Sprintf(`{"events":[{"type":4,"timestamp":1700000000000,"data":{"href":"https://shop.example.com/a"}},`+
			`{"type":5,"timestamp":1700000000500,"data":{"tag":%q}}]}`, marker)
		if r := e.do(req{path: "/v1/replay?session=" + sid + "&seq=0", body: body, key: e.project.ServerKey}); r.status != 200 {
			t.Fatalf("upload %s: %d %s", sid, r.status, r.body)
		}
		return marker
	}

	// The running process: its own rows need no restoring.
	spy := &spyStore{Store: e.packer.Store}
	e.packer.Store = spy
	upload("sess-running-1")
	e.pack()
	if len(spy.restored) != 0 {
		t.Fatalf("restored %v in the process that created them", spy.restored)
	}

	lost, deleted := "sess-lost-0001", "sess-deleted-01"
	marker := upload(lost)
	upload(deleted)
	before, err := e.db.FindSession(ctx, e.project.ProjectID, lost)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.DeleteSession(ctx, e.project.ProjectID, lost); err != nil { // the power cut
		t.Fatal(err)
	}
	if _, err := e.db.ShredSession(ctx, e.project.ProjectID, deleted, "request"); err != nil {
		t.Fatal(err)
	}

	// The restart: a new handler and packer on the same store and log.
	h2 := ingest.New(ingest.Options{Store: e.db, Master: e.master, Log: e.log, Blobs: e.blobs,
		Scrubber: scrub.MustNew(ingest.DefaultScrubRules()), ReplayScrubber: scrub.MustNew(ingest.DefaultReplayScrubRules()),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	p2 := h2.NewPacker(e.log, e.blobs, "node-test")
	spy2 := &spyStore{Store: p2.Store}
	p2.Store = spy2
	for {
		n, err := p2.Round(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	// (A packer started by Round alone reads the log from its start, so
	// the first session comes round again; its row exists and stays.)
	asked := strings.Join(spy2.restored, ",")
	if !strings.Contains(asked, lost) || !strings.Contains(asked, deleted) {
		t.Errorf("asked to restore %v, want the sessions this process does not know", spy2.restored)
	}
	after, err := e.db.FindSession(ctx, e.project.ProjectID, lost)
	if err != nil {
		t.Fatalf("lost session not restored: %v", err)
	}
	if !bytes.Equal(after.WrappedKey, before.WrappedKey) || after.Segments != 1 || after.Events != 2 {
		t.Errorf("restored session: key same %v, segments %d, events %d", bytes.Equal(after.WrappedKey, before.WrappedKey), after.Segments, after.Events)
	}
	var out bytes.Buffer
	if n, err := ingestReader(e).Replay(ctx, e.project.ProjectID, lost, &out); err != nil || n != 1 || !strings.Contains(out.String(), marker) {
		t.Errorf("replay of the restored session: %d segments, %v\n%s", n, err, out.String())
	}
	if _, err := e.db.FindSession(ctx, e.project.ProjectID, deleted); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Errorf("deleted session brought back: %v", err)
	}
	if segs, _ := e.db.ListSegments(ctx, e.project.ProjectID, deleted); len(segs) != 0 {
		t.Errorf("deleted session has %d segments", len(segs))
	}
}
