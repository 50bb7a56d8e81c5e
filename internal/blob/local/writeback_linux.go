package local

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing f's bytes [off, off+n)
// to disk without waiting (sync_file_range SYNC_FILE_RANGE_WRITE). It is
// only a hint, so errors are ignored: the fsync after the last chunk is
// what makes the object durable.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
