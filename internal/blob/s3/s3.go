// Package s3 implements blob.Bucket on Amazon S3 or any S3-compatible
// server (MinIO, versitygw, Ceph RGW, …) with aws-sdk-go-v2.
//
// It is selected with --blobs s3://bucket/prefix?endpoint=…&region=…; see
// ConfigFromURL. Credentials come only from the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN): the SDK's
// full default chain lives in aws-sdk-go-v2/config, which pulls in SSO,
// STS and IMDS clients Veil does not need.
//
// Objects are written with one PutObject (atomic by S3's semantics, up to
// 5 GiB); Veil's objects are sealed segments and packs far below that, so
// multipart upload is not used (feature/s3/manager is deprecated as well).
// Request checksums are sent only when an operation requires them: many
// S3-compatible servers reject the SDK's newer default trailing checksums,
// and every Veil object is authenticated by AES-GCM above this layer anyway.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/veil-privacy/veil/internal/blob"
)

// Bucket is a blob.Bucket on an S3 bucket, optionally below a key prefix.
type Bucket struct {
	client *s3.Client
	bucket string
	prefix string // "" or ends with "/"
	where  string // endpoint for messages, never with credentials
}

var _ blob.Bucket = (*Bucket)(nil)

// New returns a Bucket for cfg and checks with Ping that the bucket exists
// and the credentials work, so misconfiguration fails at startup.
func New(ctx context.Context, cfg Config) (*Bucket, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	opts := s3.Options{
		Region:                     cfg.Region,
		Credentials:                credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	where := "AWS S3 (" + cfg.Region + ")"
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
		opts.UsePathStyle = !cfg.VirtualHost
		where = cfg.Endpoint
	}
	if cfg.HTTPClient != nil {
		opts.HTTPClient = cfg.HTTPClient
	}
	b := &Bucket{
		client: s3.New(opts),
		bucket: cfg.Bucket,
		prefix: cfg.Prefix,
		where:  where,
	}
	if b.prefix != "" && !strings.HasSuffix(b.prefix, "/") {
		b.prefix += "/"
	}
	if err := b.Ping(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Ping implements blob.Bucket with HeadBucket. Its errors are one line
// naming the bucket, the endpoint and the likely fix.
func (b *Bucket) Ping(ctx context.Context) error {
	_, err := b.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.bucket)})
	if err == nil {
		return nil
	}
	switch status(err) {
	case http.StatusNotFound:
		return fmt.Errorf("s3 bucket %q does not exist at %s: create it or check --blobs", b.bucket, b.where)
	case http.StatusForbidden:
		return fmt.Errorf("s3 bucket %q at %s: access denied: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy", b.bucket, b.where)
	case http.StatusMovedPermanently:
		return fmt.Errorf("s3 bucket %q at %s: bucket is in another region: set region= in --blobs", b.bucket, b.where)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("s3 bucket %q at %s: %w", b.bucket, b.where, ctxErr)
	}
	return fmt.Errorf("s3 bucket %q at %s unreachable (check endpoint= in --blobs): %w", b.bucket, b.where, err)
}

// status returns the HTTP status of an SDK error, or 0.
func status(err error) int {
	if re, ok := errors.AsType[*smithyhttp.ResponseError](err); ok {
		return re.HTTPStatusCode()
	}
	return 0
}

// mapErr turns SDK errors for missing objects into blob.ErrNotFound. A
// missing bucket is not a missing object: it stays an error that says so.
func (b *Bucket) mapErr(err error) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return blob.ErrNotFound
	}
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return blob.ErrNotFound
		case "NoSuchBucket":
			return fmt.Errorf("s3 bucket %q does not exist at %s: create it or check --blobs", b.bucket, b.where)
		}
	}
	// HEAD responses carry no error body, so a 404 has no code.
	if status(err) == http.StatusNotFound {
		return blob.ErrNotFound
	}
	return err
}

// Put implements blob.Bucket with a single PutObject.
func (b *Bucket) Put(ctx context.Context, key string, data []byte) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	_, err := b.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(b.bucket),
		Key:           aws.String(b.prefix + key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String("application/octet-stream"),
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, b.mapErr(err))
	}
	return nil
}

// Get implements blob.Bucket.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, err
	}
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(b.prefix + key),
	})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, b.mapErr(err))
	}
	defer out.Body.Close()
	data, err := readBody(out.Body, aws.ToInt64(out.ContentLength))
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return data, nil
}

// readBody reads a response body whose length the server announced.
func readBody(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 {
		return io.ReadAll(r)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return data, nil
}

// GetRange implements blob.Bucket with a ranged GetObject.
func (b *Bucket) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, err
	}
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("get %s range %d+%d: %w", key, off, n, blob.ErrRange)
	}
	if n == 0 {
		if _, err := b.Stat(ctx, key); err != nil {
			return nil, err
		}
		return []byte{}, nil
	}
	end := off + n - 1
	if end < off { // overflow: read to the end
		end = 1<<63 - 1
	}
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(b.prefix + key),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
	})
	if err != nil {
		if status(err) == http.StatusRequestedRangeNotSatisfiable {
			return nil, fmt.Errorf("get %s range %d+%d: %w", key, off, n, blob.ErrRange)
		}
		return nil, fmt.Errorf("get %s: %w", key, b.mapErr(err))
	}
	defer out.Body.Close()
	data, err := readBody(out.Body, aws.ToInt64(out.ContentLength))
	if err != nil {
		return nil, fmt.Errorf("get %s range %d+%d: %w", key, off, n, err)
	}
	if out.ContentRange == nil {
		// The server ignored Range and sent the whole object.
		if off >= int64(len(data)) {
			return nil, fmt.Errorf("get %s range %d+%d of %d bytes: %w", key, off, n, len(data), blob.ErrRange)
		}
		data = data[off:min(int64(len(data)), off+n)]
	}
	return data, nil
}

// Stat implements blob.Bucket with HeadObject.
func (b *Bucket) Stat(ctx context.Context, key string) (blob.Info, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Info{}, err
	}
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(b.prefix + key),
	})
	if err != nil {
		return blob.Info{}, fmt.Errorf("stat %s: %w", key, b.mapErr(err))
	}
	return blob.Info{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// Delete implements blob.Bucket. S3 already treats deleting a missing key
// as success.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(b.prefix + key),
	})
	if err != nil {
		if err := b.mapErr(err); !errors.Is(err, blob.ErrNotFound) {
			return fmt.Errorf("delete %s: %w", key, err)
		}
	}
	return nil
}

// List implements blob.Bucket with paginated ListObjectsV2, which returns
// keys in UTF-8 byte order. Keys in the bucket that Veil could not have
// written (invalid per blob.ValidateKey, such as "dir/" markers made by
// other tools) are skipped.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	if err := blob.ValidatePrefix(prefix); err != nil {
		return err
	}
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(b.bucket),
		Prefix: aws.String(b.prefix + prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %q: %w", prefix, b.mapErr(err))
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), b.prefix)
			if !ok || blob.ValidateKey(key) != nil {
				continue
			}
			if err := fn(blob.Info{Key: key, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)}); err != nil {
				return err
			}
		}
	}
	return nil
}
