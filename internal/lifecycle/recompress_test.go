package lifecycle_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/loadgen"
	"github.com/veil-privacy/veil/internal/store"
)

// bigReplay uploads one ~20 KB segment of rrweb events (a DOM snapshot
// and incremental events, as the SDK sends) of session sid.
func (e *env) bigReplay(sid string, seq int) {
	e.t.Helper()
	e.post(fmt.Sprintf("/v1/replay?session=%s&seq=%d", sid, seq), string(loadgen.SDKBody(loadgen.SyntheticSegment(20<<10, uint64(seq)))))
}

// codecs counts the project's stored segments by codec (read from the
// blob store, as the player would).
func (e *env) codecs(sessions ...string) map[string]int {
	e.t.Helper()
	out := map[string]int{}
	for _, sid := range sessions {
		segs, err := e.db.ListSegments(context.Background(), e.project.ProjectID, sid)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, sg := range segs {
			b, err := e.blobs.GetRange(context.Background(), sg.BlobKey, sg.Offset, sg.Length)
			if err != nil {
				e.t.Fatal(err)
			}
			out[keyring.SealedCodec(b)]++
		}
	}
	return out
}

func (e *env) packFiles() []string {
	e.t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(e.dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "/packs/") {
			out = append(out, filepath.Base(p))
		}
		return err
	})
	return out
}

// TestRecompressReSealsS2WithZstd: packs of S2 segments older than the
// threshold are rewritten with zstd segments that replay byte for byte as
// before, smaller; newer packs wait; a run resumes where the last stopped;
// a deleted session's bytes leave with the old pack.
func TestRecompressReSealsS2WithZstd(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	sessions := []string{"session-rz-0001", "session-rz-0002", "session-rz-0003"}
	for seq := 1; seq <= 2; seq++ {
		for _, sid := range sessions {
			e.bigReplay(sid, seq)
		}
		e.pack() // one pack per round
	}
	before := map[string]string{}
	for _, sid := range sessions {
		txt, err := e.replayText(sid)
		if err != nil || len(txt) < 30<<10 {
			t.Fatalf("replay %s before: %d bytes, %v", sid, len(txt), err)
		}
		before[sid] = txt
	}
	if c := e.codecs(sessions...); c[keyring.CodecS2] != 6 {
		t.Fatalf("codecs after ingest = %v, want 6 × s2", c)
	}
	packsBefore := e.packFiles()

	// Too new: nothing to do yet.
	res, err := e.svc.Recompress(ctx, "test", time.Hour, 0)
	if err != nil || res.Packs != 0 || res.Segments != 0 {
		t.Fatalf("Recompress of new packs = %+v, %v", res, err)
	}
	// A session deleted before recompression: its bytes must not come back.
	if _, err := e.svc.DeleteSession(ctx, e.project.ProjectID, sessions[2]); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	res, err = e.svc.Recompress(ctx, "test", time.Hour, 1) // one pack per run
	if err != nil || res.Packs != 1 || res.Segments != 2 || !res.More {
		t.Fatalf("first run = %+v, %v", res, err)
	}
	res2, err := e.svc.Recompress(ctx, "test", time.Hour, 0)
	if err != nil || res2.Packs != 1 || res2.Segments != 2 || res2.More {
		t.Fatalf("second run = %+v, %v", res2, err)
	}
	if c := e.codecs(sessions[:2]...); c[keyring.CodecZstd] != 4 || len(c) != 1 {
		t.Fatalf("codecs after recompression = %v, want 4 × zstd", c)
	}
	before2, after2 := res.BytesBefore+res2.BytesBefore, res.BytesAfter+res2.BytesAfter
	if after2*10 > before2*9 {
		t.Errorf("recompression saved too little: %d → %d bytes", before2, after2)
	}
	t.Logf("4 segments: %d → %d bytes (%.0f %% smaller)", before2, after2, 100*(1-float64(after2)/float64(before2)))
	for _, sid := range sessions[:2] {
		if txt, err := e.replayText(sid); err != nil || txt != before[sid] {
			t.Fatalf("replay %s after recompression differs (%d vs %d bytes): %v", sid, len(txt), len(before[sid]), err)
		}
	}
	if _, err := e.replayText(sessions[2]); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("deleted session after recompression: %v", err)
	}
	// The old objects are gone, and nothing is left for compaction.
	for _, old := range packsBefore {
		for _, now := range e.packFiles() {
			if old == now {
				t.Errorf("old pack %s still stored", old)
			}
		}
	}
	if g, _ := e.db.ListPackGarbage(ctx, 10); len(g) != 0 {
		t.Errorf("pack garbage after recompression: %v", g)
	}
	// Done is done: a further run reads no pack again.
	if res, err := e.svc.Recompress(ctx, "test", time.Hour, 0); err != nil || res.Packs != 0 {
		t.Fatalf("third run = %+v, %v", res, err)
	}
	// New recordings are picked up by the hourly job once old enough.
	e.bigReplay(sessions[0], 3)
	e.pack()
	job := &lifecycle.Job{Service: e.svc, Holder: "job", RecompressAfter: time.Hour}
	job.Once(ctx)
	if c := e.codecs(sessions[0]); c[keyring.CodecS2] != 1 {
		t.Fatalf("codecs after a job run on a new pack = %v, want one s2 left", c)
	}
	e.clock.Advance(2 * time.Hour)
	job.Once(ctx)
	if c := e.codecs(sessions[0]); c[keyring.CodecZstd] != 3 || len(c) != 1 {
		t.Fatalf("codecs after the job = %v, want 3 × zstd", c)
	}
	if got := counterWith(t, e, "veil_lifecycle_recompressed_total", "what", "segments"); got != 5 {
		t.Errorf("veil_lifecycle_recompressed_total{what=segments} = %v, want 5", got)
	}
	if got := counterWith(t, e, "veil_lifecycle_recompressed_total", "what", "bytes_saved"); got < float64(before2-after2) {
		t.Errorf("veil_lifecycle_recompressed_total{what=bytes_saved} = %v, want ≥ %d", got, before2-after2)
	}
}

// counterWith reads the series of a counter family with one label value.
func counterWith(t *testing.T, e *env, name, label, value string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestRecompressKeepsADamagedSegment: a segment that does not open is kept
// byte for byte (never dropped, never blocking the job); the rest of its
// pack is recompressed and the cursor moves on.
func TestRecompressKeepsADamagedSegment(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	sessions := []string{"session-dmg-0001", "session-dmg-0002"}
	for _, sid := range sessions {
		e.bigReplay(sid, 1)
	}
	e.pack()
	segs, err := e.db.ListSegments(ctx, e.project.ProjectID, sessions[0])
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments = %v, %v", segs, err)
	}
	sg := segs[0]
	pack, err := e.blobs.Get(ctx, sg.BlobKey)
	if err != nil {
		t.Fatal(err)
	}
	pack[sg.Offset+sg.Length/2] ^= 0x40 // inside the sealed body: authentication fails
	if err := e.blobs.Put(ctx, sg.BlobKey, pack); err != nil {
		t.Fatal(err)
	}
	damaged := pack[sg.Offset : sg.Offset+sg.Length]

	e.clock.Advance(2 * time.Hour)
	res, err := e.svc.Recompress(ctx, "test", time.Hour, 0)
	if err != nil || res.Packs != 1 || res.Segments != 1 {
		t.Fatalf("Recompress = %+v, %v", res, err)
	}
	if c := e.codecs(sessions[1]); c[keyring.CodecZstd] != 1 {
		t.Fatalf("intact session: %v", c)
	}
	segs, _ = e.db.ListSegments(ctx, e.project.ProjectID, sessions[0])
	kept, err := e.blobs.GetRange(ctx, segs[0].BlobKey, segs[0].Offset, segs[0].Length)
	if err != nil || !bytes.Equal(kept, damaged) {
		t.Fatalf("damaged segment not kept byte for byte: %v", err)
	}
	if res, err := e.svc.Recompress(ctx, "test", time.Hour, 0); err != nil || res.Packs != 0 {
		t.Fatalf("second run = %+v, %v (the cursor should have moved on)", res, err)
	}
	// A pack whose S2 segments all stay as they are is left alone, even
	// when a run starts over from the beginning: rewriting it under a new
	// key would bring it round again and again.
	if err := e.db.SetRecompressCursor(ctx, e.project.ProjectID, store.PackCursor{CreatedAt: time.UnixMicro(0).UTC()}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if res, err := e.svc.Recompress(ctx, "test", time.Hour, 0); err != nil || res.Packs != 0 {
			t.Fatalf("run from the start = %+v, %v", res, err)
		}
	}
	again, _ := e.db.ListSegments(ctx, e.project.ProjectID, sessions[0])
	if again[0].BlobKey != segs[0].BlobKey {
		t.Errorf("pack with only a kept segment rewritten: %s → %s", segs[0].BlobKey, again[0].BlobKey)
	}
}
