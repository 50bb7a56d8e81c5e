package sdk_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/veil-privacy/veil/internal/testenv"
)

// TestDistReproducible rebuilds the bundle from the locked dependencies
// (node_modules from `npm ci`, which `make deps` runs) and compares it with
// the committed dist/ byte for byte: what the binary embeds is what the
// source and lock file build.
func TestDistReproducible(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", "node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "esbuild")); err != nil {
		testenv.Missing(t, "sdk/node_modules", "run `npm ci` in sdk/ (make deps does)")
	}
	out := t.TempDir()
	cmd := exec.Command(node, "build.mjs", "--out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node build.mjs: %v\n%s", err, b)
	}
	ents, err := os.ReadDir("dist")
	if err != nil {
		t.Fatal(err)
	}
	built, _ := os.ReadDir(out)
	if len(built) != len(ents) {
		t.Errorf("build wrote %d files, dist/ has %d", len(built), len(ents))
	}
	for _, e := range ents {
		want, _ := os.ReadFile(filepath.Join("dist", e.Name()))
		got, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("dist/%s differs from a fresh build (%d vs %d bytes): run `make sdk` and commit dist/", e.Name(), len(want), len(got))
		}
	}
}
