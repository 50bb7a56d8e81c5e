package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindVersitygw(t *testing.T) {
	t.Run("EnvMissingFile", func(t *testing.T) {
		t.Setenv("VEIL_VERSITYGW", filepath.Join(t.TempDir(), "nope"))
		if _, err := findVersitygw(); err == nil || !strings.Contains(err.Error(), "VEIL_VERSITYGW") {
			t.Fatalf("findVersitygw = %v, want an error naming VEIL_VERSITYGW", err)
		}
	})
	t.Run("EnvWins", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "versitygw")
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("VEIL_VERSITYGW", p)
		if got, err := findVersitygw(); err != nil || got != p {
			t.Fatalf("findVersitygw = %q, %v; want %q", got, err, p)
		}
	})
	t.Run("RepoRoot", func(t *testing.T) {
		root, ok := s3RepoRoot()
		if !ok {
			t.Fatal("no go.mod above the working directory")
		}
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
			t.Fatal(err)
		}
	})
}
