//go:build !linux

package wal

import (
	"os"
	"path/filepath"
)

// WritevAt writes bufs one after the other (no pwritev here).
func (o osFile) WritevAt(bufs [][]byte, off int64) (int, error) {
	total := 0
	for _, b := range bufs {
		n, err := o.f.WriteAt(b, off)
		total += n
		off += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Datasync falls back to a full fsync.
func (o osFile) Datasync() error { return o.f.Sync() }

// lockDir only creates the lock file; there is no portable advisory lock.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
}
