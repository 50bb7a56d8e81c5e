package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

func testCommitPack(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	org := MustCreateOrg(t, db, "acme")
	web, api := MustCreateProject(t, db, org.ID, "web"), MustCreateProject(t, db, org.ID, "api")
	ses := MustCreateSession(t, db, web.ID)
	seg := func(seq int64, off int64) veil.PackedSegment {
		return veil.PackedSegment{
			Segment: veil.Segment{ProjectID: web.ID, SessionID: ses.ID, Seq: seq, BlobKey: "p/pack1", Offset: off, Length: 10,
				FirstTS: ses.FirstSeen.Add(time.Duration(seq) * time.Second), LastTS: ses.FirstSeen.Add(time.Duration(seq)*time.Second + 500*time.Millisecond), Events: 3},
			Meta: veil.SegmentMeta{Errors: 1, URLPath: "/checkout", UserAgent: "Firefox", UserIndex: "bidx", Pages: 2,
				Tags: []string{"tag-signup", "tag-" + string(rune('a'+seq))}},
		}
	}
	if lsn, err := db.FindCheckpoint(ctx, "node-a"); err != nil || lsn != 0 {
		t.Fatalf("fresh checkpoint = %d, %v", lsn, err)
	}
	commit := &veil.PackCommit{
		NodeID: "node-a", LSN: 42,
		Batches: []*veil.EventBatch{{ProjectID: web.ID, BlobKey: "p/e1", Count: 7, MinTime: ses.FirstSeen, MaxTime: ses.FirstSeen.Add(time.Minute), Bytes: 99}},
		Segments: []veil.PackedSegment{seg(1, 0), seg(2, 10),
			// A session that does not exist (deleted meanwhile) is skipped.
			{Segment: veil.Segment{ProjectID: web.ID, SessionID: "ses_gone", Seq: 1, BlobKey: "p/pack1", Offset: 20, Length: 5, FirstTS: ses.FirstSeen, LastTS: ses.FirstSeen}},
			// So is the same id under another project (tenant scoping).
			{Segment: veil.Segment{ProjectID: api.ID, SessionID: ses.ID, Seq: 1, BlobKey: "p/pack1", Offset: 25, Length: 5, FirstTS: ses.FirstSeen, LastTS: ses.FirstSeen}},
		},
	}
	n, err := db.CommitPack(ctx, commit)
	if err != nil || n != 2 {
		t.Fatalf("CommitPack = %d, %v; want 2 new segments", n, err)
	}
	// Replaying the same work (after a crash before the log was trimmed)
	// adds nothing.
	commit.LSN = 50
	commit.Batches = nil
	if n, err := db.CommitPack(ctx, commit); err != nil || n != 0 {
		t.Fatalf("replayed CommitPack = %d, %v; want 0", n, err)
	}
	if lsn, _ := db.FindCheckpoint(ctx, "node-a"); lsn != 50 {
		t.Fatalf("checkpoint = %d, want 50", lsn)
	}
	if lsn, _ := db.FindCheckpoint(ctx, "node-b"); lsn != 0 {
		t.Fatalf("other node's checkpoint = %d", lsn)
	}
	segs, err := db.ListSegments(ctx, web.ID, ses.ID)
	if err != nil || len(segs) != 2 || segs[0].Seq != 1 || segs[1].Offset != 10 || !segs[1].FirstTS.Equal(seg(2, 0).FirstTS) {
		t.Fatalf("ListSegments = %+v, %v", segs, err)
	}
	if segs, _ := db.ListSegments(ctx, api.ID, ses.ID); len(segs) != 0 {
		t.Fatal("segments visible under another project")
	}
	got, err := db.FindSession(ctx, web.ID, ses.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantLast := seg(2, 0).LastTS
	if got.Events != 6 || got.Segments != 2 || got.Errors != 2 || got.URLPath != ses.URLPath || got.UserAgent != "Firefox" ||
		got.UserIndex != "bidx" || !got.LastSeen.Equal(wantLast) || got.Pages != 4 {
		t.Fatalf("session after pack = %+v", got)
	}
	// Custom events seen (as blind indexes) find the session, in its own
	// project only; a tag seen in two segments is one row.
	for tag, want := range map[string]int{"tag-signup": 1, "tag-b": 1, "tag-c": 1, "tag-none": 0} {
		if pg, err := db.FindSessionPage(ctx, store.SessionQuery{ProjectID: web.ID, TagIndex: tag}); err != nil || len(pg.Sessions) != want {
			t.Errorf("sessions with %s = %v, %v; want %d", tag, pg, err, want)
		}
		if n, _, err := db.CountSessions(ctx, store.SessionQuery{ProjectID: web.ID, TagIndex: tag}, 10); err != nil || n != want {
			t.Errorf("count with %s = %d, %v; want %d", tag, n, err, want)
		}
	}
	if pg, _ := db.FindSessionPage(ctx, store.SessionQuery{ProjectID: api.ID, TagIndex: "tag-signup"}); len(pg.Sessions) != 0 {
		t.Error("a tag found a session under another project")
	}
	if b, _ := db.ListEventBatches(ctx, web.ID, time.Time{}, time.Time{}); len(b) != 1 || b[0].Count != 7 {
		t.Fatalf("batches = %+v", b)
	}
	// Deleting the session removes its index entries.
	if err := db.DeleteSession(ctx, web.ID, ses.ID); err != nil {
		t.Fatal(err)
	}
	if segs, _ := db.ListSegments(ctx, web.ID, ses.ID); len(segs) != 0 {
		t.Fatal("segments outlived their session")
	}
	if n, _, _ := db.CountSessions(ctx, store.SessionQuery{ProjectID: web.ID, TagIndex: "tag-signup"}, 10); n != 0 {
		t.Fatal("session tags outlived their session")
	}
	if _, err := db.CommitPack(ctx, &veil.PackCommit{}); veil.ErrorCode(err) != veil.EINVALID {
		t.Fatalf("CommitPack without node = %v", err)
	}
}
