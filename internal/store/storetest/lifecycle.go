package storetest

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

func testLifecycle(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clock := MustOpen(t, open)
	org := MustCreateOrg(t, db, "acme")
	web := MustCreateProject(t, db, org.ID, "web")
	old, keep := MustCreateSession(t, db, web.ID), MustCreateSession(t, db, web.ID)
	t0 := old.FirstSeen
	seg := func(s *veil.Session, seq, off int64, key string) veil.PackedSegment {
		return veil.PackedSegment{Segment: veil.Segment{ProjectID: web.ID, SessionID: s.ID, Seq: seq, BlobKey: key,
			Offset: off, Length: 10, FirstTS: t0, LastTS: t0, Events: 1}, Meta: veil.SegmentMeta{UserIndex: "idx-" + s.ID}}
	}
	if _, err := db.CommitPack(ctx, &veil.PackCommit{NodeID: "n", LSN: 1,
		Segments: []veil.PackedSegment{seg(old, 1, 0, "p/pk1"), seg(keep, 1, 10, "p/pk1"), seg(old, 2, 0, "p/pk2")},
		Batches:  []*veil.EventBatch{{ProjectID: web.ID, BlobKey: "p/e1", Count: 3, MinTime: t0, MaxTime: t0, Bytes: 30}},
	}); err != nil {
		t.Fatal(err)
	}
	if ss, err := db.ListSessionsByUser(ctx, web.ID, "idx-"+old.ID); err != nil || len(ss) != 1 || ss[0].ID != old.ID {
		t.Fatalf("ListSessionsByUser = %v, %v", ss, err)
	}
	if ss, _ := db.ListSessionsByUser(ctx, web.ID, ""); len(ss) != 0 {
		t.Fatal("empty user index matched sessions")
	}
	clock.Advance(48 * time.Hour)
	st, err := db.CountExpired(ctx, web.ID, t0.Add(time.Hour), t0.Add(time.Hour))
	if err != nil || st.Sessions != 2 || st.ReplayBytes != 30 || st.EventBatches != 1 || st.Events != 3 || st.EventBytes != 30 {
		t.Fatalf("CountExpired = %+v, %v", st, err)
	}
	if ss, err := db.ListSessionsSeenBefore(ctx, web.ID, t0.Add(time.Hour), 1); err != nil || len(ss) != 1 {
		t.Fatalf("ListSessionsSeenBefore = %v, %v", ss, err)
	}

	ep := mustEndpoint(t, db, web.ID, "recording.deleted")
	res, err := db.ShredSession(ctx, web.ID, old.ID, "test")
	if err != nil || res.Segments != 2 || res.Bytes != 20 || len(res.Packs) != 2 {
		t.Fatalf("ShredSession = %+v, %v", res, err)
	}
	// The deletion queued recording.deleted in its own transaction.
	msgs, err := db.ListWebhookMessages(ctx, web.ID, ep.ID, 10)
	if err != nil || len(msgs) != 1 || msgs[0].EventType != "recording.deleted" ||
		!strings.Contains(string(msgs[0].Payload), old.ID) || !strings.Contains(string(msgs[0].Payload), `"reason":"test"`) {
		t.Fatalf("webhook messages after shred = %+v, %v", msgs, err)
	}
	if _, err := db.FindSession(ctx, web.ID, old.ID); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("shredded session still found: %v", err)
	}
	if _, err := db.ShredSession(ctx, web.ID, old.ID, "again"); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("second shred: %v", err)
	}
	led, err := db.ListDeletedSessions(ctx, time.Time{})
	if err != nil || len(led) != 1 || led[0].SessionID != old.ID || led[0].Reason != "test" || !led[0].DeletedAt.Equal(clock.Now().UTC().Truncate(time.Microsecond)) {
		t.Fatalf("ledger = %+v, %v", led, err)
	}
	garbage, err := db.ListPackGarbage(ctx, 10)
	if err != nil || len(garbage) != 2 {
		t.Fatalf("garbage = %v, %v", garbage, err)
	}
	live, err := db.ListPackSegments(ctx, "p/pk1")
	if err != nil || len(live) != 1 || live[0].SessionID != keep.ID {
		t.Fatalf("ListPackSegments = %v, %v", live, err)
	}
	live[0].Offset = 0
	if err := db.MoveSegments(ctx, "p/pk1", "p/pk3", web.ID, live); err != nil {
		t.Fatal(err)
	}
	if g, _ := db.ListPackGarbage(ctx, 10); len(g) != 2 {
		t.Fatalf("garbage cleared before its object was deleted: %v", g)
	}
	for _, k := range []string{"p/pk1", "p/pk2"} {
		if err := db.ClearPackGarbage(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if g, _ := db.ListPackGarbage(ctx, 10); len(g) != 0 {
		t.Fatalf("garbage after moves = %v", g)
	}
	if segs, _ := db.ListSegments(ctx, web.ID, keep.ID); len(segs) != 1 || segs[0].BlobKey != "p/pk3" || segs[0].Offset != 0 {
		t.Fatalf("moved segment = %+v", segs[0])
	}
	// A stale move (the segment was deleted meanwhile) marks the new pack
	// as garbage instead of resurrecting anything.
	if _, err := db.ShredSession(ctx, web.ID, keep.ID, "gone"); err != nil {
		t.Fatal(err)
	}
	stale := []*veil.Segment{{ProjectID: web.ID, SessionID: keep.ID, Seq: 1, Offset: 0}}
	if err := db.MoveSegments(ctx, "p/pk3", "p/pk4", web.ID, stale); err != nil {
		t.Fatal(err)
	}
	if g, _ := db.ListPackGarbage(ctx, 10); len(g) != 2 || !slices.Contains(g, "p/pk4") {
		t.Fatalf("garbage after stale move = %v", g)
	}

	bs, err := db.ListEventBatchesBefore(ctx, web.ID, t0.Add(time.Hour), 10)
	if err != nil || len(bs) != 1 {
		t.Fatalf("ListEventBatchesBefore = %v, %v", bs, err)
	}
	if err := db.ReplaceEventBatch(ctx, web.ID, bs[0].ID, "p/wrong", "p/e2", 1, 5); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("replace with a stale key: %v", err)
	}
	if err := db.ReplaceEventBatch(ctx, web.ID, bs[0].ID, "p/e1", "p/e2", 1, 5); err != nil {
		t.Fatal(err)
	}
	if b, _ := db.ListEventBatches(ctx, web.ID, time.Time{}, time.Time{}); len(b) != 1 || b[0].BlobKey != "p/e2" || b[0].Count != 1 {
		t.Fatalf("replaced batch = %+v", b[0])
	}
	if err := db.DeleteEventBatch(ctx, web.ID, bs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteEventBatch(ctx, web.ID, bs[0].ID); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("second batch delete: %v", err)
	}

	if _, err := db.FindRetention(ctx, org.ID, ""); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("FindRetention before set: %v", err)
	}
	d30, d0 := 30, 0
	if err := db.SetRetention(ctx, &store.Retention{OrgID: org.ID, ReplayDays: &d30}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetRetention(ctx, &store.Retention{OrgID: org.ID, ProjectID: web.ID, EventDays: &d0}); err != nil {
		t.Fatal(err)
	}
	bad := -1
	if err := db.SetRetention(ctx, &store.Retention{OrgID: org.ID, EventDays: &bad}); veil.ErrorCode(err) != veil.EINVALID {
		t.Fatalf("negative days: %v", err)
	}
	if err := db.SetRetention(ctx, &store.Retention{OrgID: "org_missing", ReplayDays: &d30}); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("missing org: %v", err)
	}
	r, err := db.FindRetention(ctx, org.ID, "")
	if err != nil || r.ReplayDays == nil || *r.ReplayDays != 30 || r.EventDays != nil {
		t.Fatalf("org retention = %+v, %v", r, err)
	}
	r, err = db.FindRetention(ctx, org.ID, web.ID)
	if err != nil || r.ReplayDays != nil || r.EventDays == nil || *r.EventDays != 0 {
		t.Fatalf("project retention = %+v, %v", r, err)
	}
}

func testVacuumInto(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	MustCreateOrg(t, db, "acme")
	path := filepath.Join(t.TempDir(), "copy.db")
	err := db.VacuumInto(ctx, path)
	if db.Dialect() != store.SQLite {
		if veil.ErrorCode(err) != veil.EINVALID {
			t.Fatalf("VacuumInto on %s: %v", db.Dialect(), err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	cp, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if _, err := cp.FindOrgByName(ctx, "acme"); err != nil {
		t.Fatalf("copy lacks the org: %v", err)
	}
}
