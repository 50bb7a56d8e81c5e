package local_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/blob/blobtest"
	"github.com/veil-privacy/veil/internal/blob/local"
)

// MustOpen returns a Bucket on a fresh temporary directory.
func MustOpen(tb testing.TB) *local.Bucket {
	tb.Helper()
	b, err := local.New(filepath.Join(tb.TempDir(), "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestBucket(t *testing.T) {
	blobtest.RunSuite(t, func(t *testing.T) blob.Bucket { return MustOpen(t) })
}

func TestBucket_Modes(t *testing.T) {
	b := MustOpen(t)
	blobtest.MustPut(t, b, "p/1/s/2/seg", []byte("sealed"))
	err := filepath.WalkDir(b.Root(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700 | fs.ModeDir
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBucket_NoTempFilesLeft(t *testing.T) {
	b := MustOpen(t)
	for range 3 {
		blobtest.MustPut(t, b, "a/b", []byte("x"))
	}
	entries, err := os.ReadDir(filepath.Join(b.Root(), "a"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "b" {
		t.Fatalf("dir holds %v, want only b", entries)
	}
}

func TestBucket_DeleteRemovesEmptyDirs(t *testing.T) {
	b := MustOpen(t)
	blobtest.MustPut(t, b, "p/1/s/2/seg", []byte("x"))
	if err := b.Delete(context.Background(), "p/1/s/2/seg"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(b.Root())
	if err != nil || len(entries) != 0 {
		t.Fatalf("root after delete: %v, %v; want empty", entries, err)
	}
}

func TestBucket_PingMissingRoot(t *testing.T) {
	b := MustOpen(t)
	if err := os.RemoveAll(b.Root()); err != nil {
		t.Fatal(err)
	}
	err := b.Ping(context.Background())
	if err == nil || !strings.Contains(err.Error(), b.Root()) {
		t.Fatalf("Ping on removed root = %v, want an error naming it", err)
	}
}

// Objects are written in chunks with early writeback; every size around a
// chunk boundary must read back byte for byte.
func TestBucket_PutChunkBoundaries(t *testing.T) {
	const chunk = 1 << 20
	b := MustOpen(t)
	ctx := context.Background()
	for _, size := range []int{0, 1, chunk - 1, chunk, chunk + 1, 3*chunk + 5} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		key := fmt.Sprintf("chunks/%d", size)
		if err := b.Put(ctx, key, data); err != nil {
			t.Fatalf("Put %d bytes: %v", size, err)
		}
		got, err := b.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get %d bytes: %v", size, err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%d bytes: read back %d bytes that differ", size, len(got))
		}
	}
}
