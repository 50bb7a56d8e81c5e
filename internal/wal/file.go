package wal

import (
	"io/fs"
	"os"
)

// file is what the writer needs from a segment file open for writing. It is
// an interface so that tests can inject faults (ENOSPC after N bytes, a
// failing fdatasync) without a full disk.
type file interface {
	// WritevAt writes bufs contiguously at off and returns how many bytes
	// it wrote; fewer than the total only with an error.
	WritevAt(bufs [][]byte, off int64) (int, error)
	// Datasync flushes written data and the metadata needed to read it
	// back (the size) to stable storage: fdatasync(2).
	Datasync() error
	Truncate(size int64) error
	Close() error
}

// openFileFunc opens a segment file for writing.
type openFileFunc func(name string, flag int, perm fs.FileMode) (file, error)

// osFile is a file backed by an *os.File.
type osFile struct{ f *os.File }

func openOSFile(name string, flag int, perm fs.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (o osFile) Truncate(size int64) error { return o.f.Truncate(size) }
func (o osFile) Close() error              { return o.f.Close() }

// syncDir makes changes to the directory's entries (a created or removed
// segment) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
