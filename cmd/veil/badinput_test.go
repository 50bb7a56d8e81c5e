package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/testenv"
)

// TestBadStorageInput checks that each broken set-up gives one clear line
// naming the problem and the fix, and a non-zero exit, never a stack trace.
func TestBadStorageInput(t *testing.T) {
	base := t.TempDir()
	// A data directory with a project sealed under a known master key.
	withData := filepath.Join(base, "with-data")
	mustVeil(t, nil, "project", "create", "--name", "p", "--data", withData)

	keyDir := t.TempDir()
	short := filepath.Join(keyDir, "short.key")
	os.WriteFile(short, []byte("c2hvcnQta2V5Cg==\n"), 0o600) // "short-key"
	corrupt := filepath.Join(keyDir, "corrupt.key")
	os.WriteFile(corrupt, []byte("this is not base64 at all!!\n"), 0o600)
	other := filepath.Join(keyDir, "other.key")
	mustVeil(t, nil, "key", "generate-master", "--out", other)
	notDir := filepath.Join(base, "file")
	os.WriteFile(notDir, []byte("x"), 0o600)

	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // substrings of the error line
	}{
		{"ShortMasterKeyEnv", map[string]string{"VEIL_MASTER_KEY": "c2hvcnQ="}, []string{"project", "list", "--data", t.TempDir()},
			[]string{"VEIL_MASTER_KEY", "32"}},
		{"ShortMasterKeyFile", nil, []string{"project", "list", "--data", t.TempDir(), "--master-key-file", short},
			[]string{short, "32"}},
		{"CorruptMasterKeyFile", nil, []string{"project", "list", "--data", t.TempDir(), "--master-key-file", corrupt},
			[]string{corrupt}},
		{"MissingMasterKeyFile", nil, []string{"project", "list", "--data", t.TempDir(), "--master-key-file", filepath.Join(keyDir, "nope.key")},
			[]string{"does not exist", "veil key generate-master"}},
		{"WrongMasterKey", nil, []string{"project", "list", "--data", withData, "--master-key-file", other},
			[]string{"cannot open project"}},
		{"MasterKeyLostButDataExists", nil, []string{"project", "list", "--data", lostKey(t, withData)},
			[]string{"missing", "restore the key file"}},
		{"UnwritableDataDir", nil, []string{"project", "list", "--data", filepath.Join(notDir, "sub")},
			[]string{"data directory", "--data"}},
		{"UnreachableDatabase", nil, []string{"project", "list", "--database", "postgres://veil:s3cret-pw@127.0.0.1:1/veil?sslmode=disable&connect_timeout=2", "--master-key-file", other},
			[]string{"127.0.0.1:1"}},
		{"PostgresWithoutMasterKey", nil, []string{"serve", "--database", testenv.Postgres(t)},
			[]string{"no master key", "--master-key-file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runVeil(t, tt.env, tt.args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
			}
			line := errLine(t, r)
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("error line %q lacks %q", line, w)
				}
			}
			if strings.Contains(r.stderr, "s3cret-pw") {
				t.Error("database password printed")
			}
		})
	}
}

func TestMissingBucket(t *testing.T) {
	url := testenv.S3BlobURL(t, "")
	u := strings.Replace(url, "s3://", "s3://no-such-bucket-", 1)
	r := runVeil(t, nil, "serve", "--data", t.TempDir(), "--blobs", u, "--addr", "127.0.0.1:0")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
	}
	if line := errLine(t, r); !strings.Contains(line, "no-such-bucket-") {
		t.Fatalf("error %q does not name the bucket", line)
	}
}

// lostKey copies a data directory without its master key.
func lostKey(t *testing.T, src string) string {
	dst := t.TempDir()
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		if e.IsDir() || e.Name() == "master.key" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600)
	}
	return dst
}
