package lifecycle

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/veil-privacy/veil/internal/blob"
)

// OpenBackupTarget opens where backups are written or read: a directory
// (relative or absolute path, or file:///abs/path) or an S3 prefix
// (s3://bucket/prefix?endpoint=URL&region=R, credentials from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY as for --blobs). The program
// must link the blob adapters (cmd/veil does).
func OpenBackupTarget(ctx context.Context, target string) (blob.Bucket, error) {
	if target == "" {
		return nil, fmt.Errorf("no backup location given")
	}
	if !strings.Contains(target, "://") {
		abs, err := filepath.Abs(target)
		if err != nil {
			return nil, err
		}
		target = abs
	}
	return blob.Open(ctx, target, "")
}

// Sub returns a view of b in which every key is under prefix (a key
// path without leading or trailing slash).
func Sub(b blob.Bucket, prefix string) blob.Bucket {
	if s, ok := b.(*subBucket); ok {
		return &subBucket{b: s.b, prefix: s.prefix + prefix + "/"}
	}
	return &subBucket{b: b, prefix: prefix + "/"}
}

type subBucket struct {
	b      blob.Bucket
	prefix string
}

func (s *subBucket) Put(ctx context.Context, key string, data []byte) error {
	return s.b.Put(ctx, s.prefix+key, data)
}

func (s *subBucket) Get(ctx context.Context, key string) ([]byte, error) {
	return s.b.Get(ctx, s.prefix+key)
}

func (s *subBucket) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	return s.b.GetRange(ctx, s.prefix+key, off, n)
}

func (s *subBucket) Stat(ctx context.Context, key string) (blob.Info, error) {
	i, err := s.b.Stat(ctx, s.prefix+key)
	i.Key = strings.TrimPrefix(i.Key, s.prefix)
	return i, err
}

func (s *subBucket) Delete(ctx context.Context, key string) error {
	return s.b.Delete(ctx, s.prefix+key)
}

func (s *subBucket) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	return s.b.List(ctx, s.prefix+prefix, func(i blob.Info) error {
		i.Key = strings.TrimPrefix(i.Key, s.prefix)
		return fn(i)
	})
}

func (s *subBucket) Ping(ctx context.Context) error { return s.b.Ping(ctx) }
