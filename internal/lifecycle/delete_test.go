package lifecycle_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/lifecycle"
)

func TestDeleteSessionShredsThenCompacts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pid := e.project.ProjectID
	const gone, kept = "session-gone-0001", "session-kept-0001"
	for seq := 1; seq <= 3; seq++ { // interleaved, so packs hold both
		e.replay(gone, seq, "u-1", day0)
		e.replay(kept, seq, "u-2", day0)
	}
	e.pack()
	segs, err := e.db.ListSegments(ctx, pid, gone)
	if err != nil || len(segs) != 3 {
		t.Fatalf("segments = %v, %v", segs, err)
	}
	var sealed [][]byte
	for _, sg := range segs {
		b, err := e.blobs.GetRange(ctx, sg.BlobKey, sg.Offset, sg.Length)
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, b)
	}
	sess, _ := e.db.FindSession(ctx, pid, gone)
	oldWrapped := sess.WrappedKey

	res, err := e.svc.DeleteSession(ctx, pid, gone)
	if err != nil || res.Segments != 3 {
		t.Fatalf("DeleteSession = %+v, %v", res, err)
	}
	if _, err := e.replayText(gone); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("export after delete: %v", err)
	}
	if _, err := e.svc.DeleteSession(ctx, pid, gone); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("second delete: %v", err)
	}
	// No key still stored opens the sealed bytes: try every session key
	// that remains (and the project key itself).
	p, _ := e.db.FindProjectByID(ctx, pid)
	dek, err := e.master.Unwrap(p.WrappedKey, ingest.ProjectKeyAAD(p.OrgID, p.ID))
	if err != nil {
		t.Fatal(err)
	}
	rest, _ := e.db.ListSessions(ctx, pid, 0)
	for _, s := range rest {
		sk, err := dek.UnwrapKey(s.WrappedKey, ingest.SessionKeyAAD(p.OrgID, p.ID, s.ID))
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range sealed {
			if _, err := sk.Open(b, ingest.SegmentAAD(p.OrgID, p.ID, gone, int64(i+1))); err == nil {
				t.Fatal("a remaining session key opens a deleted segment")
			}
		}
		if strings.Contains(string(s.WrappedKey), string(oldWrapped)) {
			t.Fatal("wrapped key survived")
		}
	}
	for i, b := range sealed {
		if _, err := dek.Open(b, ingest.SegmentAAD(p.OrgID, p.ID, gone, int64(i+1))); err == nil {
			t.Fatal("the project key opens a deleted segment")
		}
		if !e.blobDirContains(b) {
			t.Fatal("sealed bytes gone before compaction (test is not testing anything)")
		}
	}

	// Only one node compacts at a time.
	if ok, _ := e.db.AcquireLease(ctx, lifecycle.LeaseCompact, "other-node", 60e9); !ok {
		t.Fatal("could not take the lease")
	}
	if _, err := e.svc.Compact(ctx, "node-a", 0); !errors.Is(err, lifecycle.ErrLeaseHeld) {
		t.Fatalf("Compact under another node's lease: %v", err)
	}
	e.db.ReleaseLease(ctx, lifecycle.LeaseCompact, "other-node")
	cr, err := e.svc.Compact(ctx, "node-a", 0)
	if err != nil || cr.Rewritten+cr.Deleted == 0 || cr.Reclaimed < int64(len(sealed[0])) {
		t.Fatalf("Compact = %+v, %v", cr, err)
	}
	for _, b := range sealed {
		if e.blobDirContains(b) {
			t.Fatal("deleted segment bytes still in the blob directory after compaction")
		}
	}
	// The other session is whole, and a second run finds nothing to do.
	text, err := e.replayText(kept)
	if err != nil || strings.Count(text, "segment-"+kept) != 3 || strings.Contains(text, gone) {
		t.Fatalf("kept session after compaction: %v\n%s", err, text)
	}
	if cr, err := e.svc.Compact(ctx, "node-a", 0); err != nil || cr.Rewritten+cr.Deleted != 0 {
		t.Fatalf("second Compact = %+v, %v", cr, err)
	}
	if acts := e.auditActions(); !slices.Contains(acts, lifecycle.ActionSessionDelete) {
		t.Fatalf("audit actions = %v", acts)
	}
}
