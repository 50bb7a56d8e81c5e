package keyring_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps keyring pure: the standard library, x/crypto, zstd and
// veil only, and never net/http or database/sql (docs: STYLE.md import rules).
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	allowed := []string{"golang.org/x/crypto/", "github.com/klauspost/compress", "github.com/veil-privacy/veil"}
	for _, pkg := range strings.Fields(string(out)) {
		switch {
		case pkg == "net/http" || pkg == "database/sql" || strings.HasPrefix(pkg, "net/http/"):
			t.Errorf("keyring depends on %s", pkg)
		case !strings.Contains(strings.Split(pkg, "/")[0], "."):
			// standard library
		case !hasAnyPrefix(pkg, allowed):
			t.Errorf("keyring depends on %s, outside stdlib, x/crypto, klauspost/compress and veil", pkg)
		}
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
