package main

import (
	"testing"

	"github.com/veil-privacy/veil/internal/lifecycle"
)

// TestRecompressCommand: the operator command re-seals the stored S2
// segments with zstd, the replays export as before, and a second run has
// nothing left to do.
func TestRecompressCommand(t *testing.T) {
	dir, pid, sessions := recordCanaries(t)
	before := map[string]string{}
	for _, sid := range sessions {
		before[sid] = mustVeil(t, nil, "export", "replay", "--session", sid, "--project", pid, "--data", dir).stdout
	}
	r := decode[lifecycle.RecompressResult](t, mustVeil(t, nil, "recompress", "--older-than", "0", "--json", "--data", dir).stdout)
	if r.Packs < 1 || r.Segments != len(sessions) || r.BytesAfter >= r.BytesBefore || r.More {
		t.Fatalf("recompress = %+v", r)
	}
	for _, sid := range sessions {
		if got := mustVeil(t, nil, "export", "replay", "--session", sid, "--project", pid, "--data", dir).stdout; got != before[sid] {
			t.Fatalf("replay %s changed by recompression", sid)
		}
	}
	out := mustVeil(t, nil, "recompress", "--older-than", "0", "--data", dir).stdout
	if out != "recompressed 0 segment(s) in 0 pack(s)\n" {
		t.Fatalf("second run: %q", out)
	}
	if res := runVeil(t, nil, "recompress", "--max-packs", "-1", "--data", dir); res.code != 2 {
		t.Fatalf("negative --max-packs: exit %d", res.code)
	}
}
