package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

// testCommitPackBatched: a packer round's segments go in multi-row
// statements; the result must be what storing them one at a time gives:
// repeated (session, seq) entries count once (the first wins), counters
// add up across chunks and commits, the first non-empty path wins, and
// segments of missing sessions are skipped.
func testCommitPackBatched(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	org := MustCreateOrg(t, db, "acme")
	p := MustCreateProject(t, db, org.ID, "web")
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var ses [2]*veil.Session
	for i := range ses {
		ses[i] = &veil.Session{ProjectID: p.ID, WrappedKey: []byte("sk"), FirstSeen: t0.Add(time.Minute), LastSeen: t0.Add(time.Minute)}
		if err := db.CreateSession(ctx, ses[i]); err != nil {
			t.Fatal(err)
		}
	}
	seg := func(s *veil.Session, seq int64, events int64) veil.PackedSegment {
		path := ""
		if seq > 0 {
			path = fmt.Sprintf("/page-%d", seq)
		}
		return veil.PackedSegment{
			Segment: veil.Segment{ProjectID: p.ID, SessionID: s.ID, Seq: seq, BlobKey: "p/pk", Offset: seq * 10, Length: 10,
				FirstTS: t0.Add(time.Duration(seq) * time.Second), LastTS: t0.Add(time.Duration(seq)*time.Second + time.Millisecond), Events: events},
			Meta: veil.SegmentMeta{Errors: 1, Pages: 1, URLPath: path, UserAgent: "Firefox"},
		}
	}
	// 250 segments over two sessions (more than one statement's worth),
	// a repeat with other figures, and a session that does not exist.
	var segs []veil.PackedSegment
	for seq := range int64(125) {
		segs = append(segs, seg(ses[0], seq, 2), seg(ses[1], seq, 3))
		if seq == 5 {
			segs = append(segs, seg(ses[0], 5, 1000))
			segs = append(segs, veil.PackedSegment{Segment: veil.Segment{ProjectID: p.ID, SessionID: "ses_gone", Seq: seq,
				BlobKey: "p/pk", FirstTS: t0, LastTS: t0}})
		}
	}
	if n, err := db.CommitPack(ctx, &veil.PackCommit{NodeID: "n", LSN: 1, Segments: segs}); err != nil || n != 250 {
		t.Fatalf("CommitPack = %d, %v; want 250 new segments", n, err)
	}
	// The next round repeats the last 25 (a log replayed after a crash)
	// and adds 25.
	segs = nil
	for seq := int64(100); seq < 150; seq++ {
		segs = append(segs, seg(ses[0], seq, 2))
	}
	if n, err := db.CommitPack(ctx, &veil.PackCommit{NodeID: "n", LSN: 2, Segments: segs}); err != nil || n != 25 {
		t.Fatalf("second CommitPack = %d, %v; want 25 new segments", n, err)
	}
	for i, want := range []struct{ segments, events int64 }{{150, 300}, {125, 375}} {
		got, err := db.FindSession(ctx, p.ID, ses[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		wantLast := t0.Add(time.Duration(want.segments-1)*time.Second + time.Millisecond)
		if got.Segments != want.segments || got.Events != want.events || got.Errors != want.segments || got.Pages != want.segments ||
			!got.FirstSeen.Equal(t0) || !got.LastSeen.Equal(wantLast) || got.URLPath != "/page-1" || got.UserAgent != "Firefox" {
			t.Errorf("session %d = segments %d events %d errors %d pages %d first %v last %v path %q agent %q; want %d segments, %d events, %v…%v, /page-1",
				i, got.Segments, got.Events, got.Errors, got.Pages, got.FirstSeen, got.LastSeen, got.URLPath, got.UserAgent,
				want.segments, want.events, t0, wantLast)
		}
		list, err := db.ListSegments(ctx, p.ID, ses[i].ID)
		if err != nil || int64(len(list)) != want.segments {
			t.Fatalf("session %d: %d segments listed, %v", i, len(list), err)
		}
		for j, s := range list {
			if s.Seq != int64(j) || s.Offset != int64(j)*10 {
				t.Fatalf("session %d: segment %d is seq %d at %d", i, j, s.Seq, s.Offset)
			}
		}
	}
	if list, _ := db.ListSegments(ctx, p.ID, "ses_gone"); len(list) != 0 {
		t.Error("segments stored for a missing session")
	}
}

// testCommitPackChunks: commits of every size are split into the prepared
// statements' row counts (100, then powers of two) without losing or
// doubling a segment or a session's figures: 1, 37, 100 and 163 sessions
// with one or two new segments each.
func testCommitPackChunks(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	org := MustCreateOrg(t, db, "acme")
	p := MustCreateProject(t, db, org.ID, "web")
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	lsn := uint64(0)
	for _, n := range []int{1, 37, 100, 163} {
		var ses []*veil.Session
		var segs []veil.PackedSegment
		for i := range n {
			s := &veil.Session{ProjectID: p.ID, WrappedKey: []byte("sk"), FirstSeen: t0, LastSeen: t0}
			if err := db.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
			ses = append(ses, s)
			for seq := range int64(1 + i%2) {
				segs = append(segs, veil.PackedSegment{Segment: veil.Segment{ProjectID: p.ID, SessionID: s.ID, Seq: seq,
					BlobKey: "p/pk", Offset: seq, Length: 1, FirstTS: t0, LastTS: t0.Add(time.Second), Events: 4}})
			}
		}
		lsn++
		if got, err := db.CommitPack(ctx, &veil.PackCommit{NodeID: "n", LSN: lsn, Segments: segs}); err != nil || got != len(segs) {
			t.Fatalf("%d sessions: CommitPack = %d, %v; want %d new segments", n, got, err, len(segs))
		}
		for i, s := range ses {
			got, err := db.FindSession(ctx, p.ID, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(1 + i%2); got.Segments != want || got.Events != 4*want {
				t.Fatalf("%d sessions: session %d has %d segments, %d events; want %d, %d", n, i, got.Segments, got.Events, want, 4*want)
			}
		}
	}
}
