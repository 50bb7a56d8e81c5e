// Package local implements blob.Bucket on a local directory, Veil's default
// object store (--data DIR/blobs, or --blobs file:///abs/path).
//
// A key maps to the file root/<key> (slashes become directories). Put
// writes a temporary file in the target directory, fsyncs it, renames it
// over the key and fsyncs the directory, so readers see the old or the new
// object, never a partial one, and an acknowledged Put survives a crash.
// Directories are created 0700 and files 0600: blobs are sealed, but their
// names and sizes are still metadata. Temporary files start with ".", which
// blob.ValidateKey forbids in keys, so they can never collide with or be
// listed as objects.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/veil-privacy/veil/internal/blob"
)

func init() {
	blob.Register("file", func(_ context.Context, u *url.URL) (blob.Bucket, error) {
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("file URL must be file:///abs/path (host %q not allowed)", u.Host)
		}
		if len(u.Query()) > 0 {
			return nil, fmt.Errorf("file URL takes no query parameters")
		}
		if !filepath.IsAbs(filepath.FromSlash(u.Path)) {
			return nil, fmt.Errorf("file URL needs an absolute path: file:///abs/path")
		}
		return New(filepath.FromSlash(u.Path))
	})
}

const (
	dirMode  = 0o700
	fileMode = 0o600
	tmpGlob  = ".tmp-*" // temporary files; dot names are never valid keys
)

// Bucket is a blob.Bucket on a directory.
type Bucket struct {
	root string
}

var _ blob.Bucket = (*Bucket)(nil)

// New returns a Bucket rooted at dir, creating dir (mode 0700) if needed.
func New(dir string) (*Bucket, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local blobs %s: %w", dir, err)
	}
	if err := os.MkdirAll(root, dirMode); err != nil {
		return nil, fmt.Errorf("local blobs: create %s: %w", root, err)
	}
	b := &Bucket{root: root}
	if err := b.Ping(context.Background()); err != nil {
		return nil, err
	}
	return b, nil
}

// Root returns the directory holding the objects.
func (b *Bucket) Root() string { return b.root }

// path maps a validated key to its file.
func (b *Bucket) path(key string) string {
	return filepath.Join(b.root, filepath.FromSlash(key))
}

// Put implements blob.Bucket.
func (b *Bucket) Put(ctx context.Context, key string, data []byte) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := b.put(key, data); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

func (b *Bucket) put(key string, data []byte) error {
	dst := b.path(key)
	dir := filepath.Dir(dst)
	var (
		f   *os.File
		err error
	)
	// A concurrent Delete may remove the (empty) directory between our
	// mkdir and CreateTemp; try again a few times.
	for range 5 {
		if err = b.mkdirAll(dir); err != nil {
			return err
		}
		if f, err = os.CreateTemp(dir, tmpGlob); !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp already uses 0600; Chmod keeps that true under any umask.
	if err := f.Chmod(fileMode); err != nil {
		return err
	}
	if err := writeChunked(f, data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		if isDirErr(err) {
			return fmt.Errorf("key is a prefix of other keys: %w", err)
		}
		return err
	}
	ok = true
	return syncDir(dir)
}

// mkdirAll creates dir and its missing parents below root with mode 0700,
// fsyncing each parent whose entries changed so new directories survive a
// crash.
func (b *Bucket) mkdirAll(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is an object, not a directory (key is below another key)", b.rel(dir))
		}
		return nil
	}
	if dir == b.root || !strings.HasPrefix(dir, b.root+string(filepath.Separator)) {
		return fmt.Errorf("blob root %s is missing", b.root)
	}
	parent := filepath.Dir(dir)
	if err := b.mkdirAll(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func (b *Bucket) rel(p string) string {
	r, err := filepath.Rel(b.root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// isDirErr reports a rename that failed because the key names a directory
// of other keys.
func isDirErr(err error) bool {
	return errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// open opens the object file for key, mapping every "no such object" case
// (missing file, a directory, a parent that is a file) to blob.ErrNotFound.
func (b *Bucket) open(key string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(b.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, nil, blob.ErrNotFound
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, blob.ErrNotFound
	}
	return f, fi, nil
}

// Get implements blob.Bucket.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, err
	}
	f, fi, err := b.open(key)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer f.Close()
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		// The file is never rewritten in place (only renamed over), so a
		// short read means outside interference.
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return data, nil
}

// GetRange implements blob.Bucket.
func (b *Bucket) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, err
	}
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("get %s range %d+%d: %w", key, off, n, blob.ErrRange)
	}
	f, fi, err := b.open(key)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer f.Close()
	if n == 0 {
		return []byte{}, nil
	}
	size := fi.Size()
	if off >= size {
		return nil, fmt.Errorf("get %s range %d+%d of %d bytes: %w", key, off, n, size, blob.ErrRange)
	}
	n = min(n, size-off)
	data := make([]byte, n)
	if _, err := f.ReadAt(data, off); err != nil {
		return nil, fmt.Errorf("get %s range %d+%d: %w", key, off, n, err)
	}
	return data, nil
}

// Stat implements blob.Bucket.
func (b *Bucket) Stat(ctx context.Context, key string) (blob.Info, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Info{}, err
	}
	fi, err := os.Stat(b.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			err = blob.ErrNotFound
		}
		return blob.Info{}, fmt.Errorf("stat %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		return blob.Info{}, fmt.Errorf("stat %s: %w", key, blob.ErrNotFound)
	}
	return blob.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete implements blob.Bucket. It also removes directories left empty,
// up to (not including) the root, so deleted sessions leave no trace.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	p := b.path(key)
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return nil
	case err != nil:
		return fmt.Errorf("delete %s: %w", key, err)
	case fi.IsDir():
		return nil // a "directory" of other keys is not an object
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	dir := filepath.Dir(p)
	if err := syncDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	// Best effort: os.Remove fails on a non-empty directory, which is
	// exactly when we must stop.
	for dir != b.root && strings.HasPrefix(dir, b.root) {
		if os.Remove(dir) != nil {
			break
		}
		dir = filepath.Dir(dir)
	}
	return nil
}

// Ping implements blob.Bucket: the root must be a directory we can create
// files in.
func (b *Bucket) Ping(ctx context.Context) error {
	fi, err := os.Stat(b.root)
	if err != nil {
		return fmt.Errorf("local blobs %s: %w", b.root, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("local blobs %s: not a directory", b.root)
	}
	f, err := os.CreateTemp(b.root, ".ping-*")
	if err != nil {
		return fmt.Errorf("local blobs %s: not writable: %w", b.root, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("local blobs %s: %w", b.root, err)
	}
	return nil
}

// writebackChunk is how much of an object is written before its writeback
// is started. The packer puts objects of tens of MB; written in one go and
// then fsynced, their whole flush lands at once on the filesystem journal
// that the write-ahead log's fdatasync also waits for, and acknowledgements
// stall behind it. Started chunk by chunk, the flush overlaps the writing
// and the final fsync has little left to do.
const writebackChunk = 1 << 20

// writeChunked writes data to f, starting the writeback of each chunk.
func writeChunked(f *os.File, data []byte) error {
	for off := 0; off < len(data); off += writebackChunk {
		end := min(off+writebackChunk, len(data))
		if _, err := f.Write(data[off:end]); err != nil {
			return err
		}
		if len(data) > writebackChunk {
			startWriteback(f, int64(off), int64(end-off))
		}
	}
	return nil
}
