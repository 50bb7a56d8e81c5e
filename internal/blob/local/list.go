package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/veil-privacy/veil/internal/blob"
)

// List implements blob.Bucket. It walks only the directory the prefix
// points into, visiting entries so that keys come out in byte-wise order:
// siblings are sorted with directories compared as "name/", because every
// key below directory "a" starts with "a/" ("a.b" < "a/c" < "a0").
func (b *Bucket) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	if err := blob.ValidatePrefix(prefix); err != nil {
		return err
	}
	dirPart, namePrefix := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dirPart, namePrefix = prefix[:i+1], prefix[i+1:]
	}
	err := b.walk(ctx, dirPart, namePrefix, fn)
	if stop, ok := errors.AsType[stopError](err); ok {
		return stop.err
	}
	if err != nil {
		return fmt.Errorf("list %q: %w", prefix, err)
	}
	return nil
}

// stopError carries fn's error out of the walk unchanged.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }

// walk lists directory keyDir (a key prefix ending in "/", or "") keeping
// only entries whose name starts with namePrefix.
func (b *Bucket) walk(ctx context.Context, keyDir, namePrefix string, fn func(blob.Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(b.root, filepath.FromSlash(keyDir)))
	if err != nil {
		// A missing directory, or one that is really an object, holds no keys.
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return err
	}
	entries = slices.DeleteFunc(entries, func(e fs.DirEntry) bool {
		return strings.HasPrefix(e.Name(), ".") || !strings.HasPrefix(e.Name(), namePrefix)
	})
	sortName := func(e fs.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	slices.SortFunc(entries, func(x, y fs.DirEntry) int { return cmp.Compare(sortName(x), sortName(y)) })
	for _, e := range entries {
		key := keyDir + e.Name()
		if e.IsDir() {
			if err := b.walk(ctx, key+"/", "", fn); err != nil {
				return err
			}
			continue
		}
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted while we listed
		} else if err != nil {
			return err
		}
		if err := fn(blob.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
			return stopError{err}
		}
	}
	return nil
}
