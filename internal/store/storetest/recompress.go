package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

// testRecompress: packs listed in the order written, from a cursor that
// survives; moves that change lengths; marking a pack as garbage.
func testRecompress(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clock := MustOpen(t, open)
	org := MustCreateOrg(t, db, "acme")
	web, other := MustCreateProject(t, db, org.ID, "web"), MustCreateProject(t, db, org.ID, "other")
	s := MustCreateSession(t, db, web.ID)
	o := MustCreateSession(t, db, other.ID)
	t0 := s.FirstSeen
	seg := func(p *veil.Project, ses *veil.Session, seq int64, key string) veil.PackedSegment {
		return veil.PackedSegment{Segment: veil.Segment{ProjectID: p.ID, SessionID: ses.ID, Seq: seq, BlobKey: key,
			Offset: 10 * (seq % 2), Length: 10, FirstTS: t0, LastTS: t0, Events: 1}}
	}
	commit := func(segs ...veil.PackedSegment) time.Time {
		t.Helper()
		at := clock.Now()
		if _, err := db.CommitPack(ctx, &veil.PackCommit{NodeID: "n", LSN: uint64(segs[0].Seq), Segments: segs}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		return at
	}
	// Two packs written at the same instant (keys decide), then a third.
	at1 := commit(seg(web, s, 1, "p/pk_b"), seg(web, s, 2, "p/pk_b"), seg(web, s, 3, "p/pk_a"), seg(other, o, 1, "q/pk_z"))
	at2 := commit(seg(web, s, 4, "p/pk_c"))

	cur, err := db.RecompressCursor(ctx, web.ID)
	if err != nil || cur.BlobKey != "" || cur.CreatedAt.After(at1) {
		t.Fatalf("fresh cursor = %+v, %v", cur, err)
	}
	keys := func(cs []store.PackCursor) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.BlobKey)
		}
		return out
	}
	tests := []struct {
		name  string
		cur   store.PackCursor
		upto  time.Time
		limit int
		want  []string
	}{
		{"All", cur, at2, 10, []string{"p/pk_a", "p/pk_b", "p/pk_c"}},
		{"Limit", cur, at2, 1, []string{"p/pk_a"}},
		{"AfterTie", store.PackCursor{CreatedAt: at1, BlobKey: "p/pk_a"}, at2, 10, []string{"p/pk_b", "p/pk_c"}},
		{"UptoExcludesNewer", cur, at1, 10, []string{"p/pk_a", "p/pk_b"}},
		{"Done", store.PackCursor{CreatedAt: at2, BlobKey: "p/pk_c"}, at2.Add(time.Hour), 10, nil},
	}
	for _, tt := range tests {
		got, err := db.ListPacksAfter(ctx, web.ID, tt.cur, tt.upto, tt.limit)
		if err != nil || !slices.Equal(keys(got), tt.want) {
			t.Errorf("%s: ListPacksAfter = %v, %v; want %v", tt.name, keys(got), err, tt.want)
		}
		for _, c := range got {
			if !c.CreatedAt.Equal(at1.UTC().Truncate(time.Microsecond)) && !c.CreatedAt.Equal(at2.UTC().Truncate(time.Microsecond)) {
				t.Errorf("%s: pack %s created_at %v", tt.name, c.BlobKey, c.CreatedAt)
			}
		}
	}
	mark := store.PackCursor{CreatedAt: at1.UTC().Truncate(time.Microsecond), BlobKey: "p/pk_b"}
	for range 2 { // insert, then update
		if err := db.SetRecompressCursor(ctx, web.ID, mark); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := db.RecompressCursor(ctx, web.ID); err != nil || got != mark {
		t.Fatalf("cursor = %+v, %v; want %+v", got, err, mark)
	}
	if got, _ := db.RecompressCursor(ctx, other.ID); got.BlobKey != "" {
		t.Fatalf("other project's cursor = %+v", got)
	}

	// A rewrite moves segments to new offsets and lengths.
	live, err := db.ListPackSegments(ctx, "p/pk_b")
	if err != nil || len(live) != 2 {
		t.Fatalf("ListPackSegments = %v, %v", live, err)
	}
	if err := db.MarkPackGarbage(ctx, "p/pk_b", web.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkPackGarbage(ctx, "p/pk_b", web.ID); err != nil { // twice is fine
		t.Fatal(err)
	}
	live[0].Offset, live[0].Length = 0, 7
	live[1].Offset, live[1].Length = 7, 6
	if err := db.MoveSegments(ctx, "p/pk_b", "p/pk_d", web.ID, live); err != nil {
		t.Fatal(err)
	}
	segs, err := db.ListPackSegments(ctx, "p/pk_d")
	if err != nil || len(segs) != 2 || segs[0].Length != 7 || segs[1].Offset != 7 || segs[1].Length != 6 || !segs[0].CreatedAt.Equal(mark.CreatedAt) {
		t.Fatalf("moved segments = %+v, %v", segs, err)
	}
	if g, _ := db.ListPackGarbage(ctx, 10); !slices.Equal(g, []string{"p/pk_b"}) {
		t.Fatalf("garbage = %v", g)
	}
}
