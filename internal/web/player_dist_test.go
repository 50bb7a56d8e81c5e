package web_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/veil-privacy/veil/internal/testenv"
)

// TestPlayerBundleReproducible checks that the committed player bundle
// (static/player.js, player.css) is what player/build.mjs makes from the
// lock-pinned rrweb in sdk/node_modules.
func TestPlayerBundleReproducible(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", "node is not on PATH")
	}
	if _, err := os.Stat("../../sdk/node_modules/@rrweb/replay"); err != nil {
		testenv.Missing(t, "sdk/node_modules", "run `npm ci` in sdk/ (make deps does)")
	}
	out := t.TempDir()
	if b, err := exec.Command(node, "../../player/build.mjs", "--out", out).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	for _, f := range []string{"player.js", "player.css"} {
		got, _ := os.ReadFile(filepath.Join(out, f))
		want, _ := os.ReadFile(filepath.Join("static", f))
		if !bytes.Equal(got, want) {
			t.Errorf("internal/web/static/%s is stale: run `node player/build.mjs`", f)
		}
	}
}
