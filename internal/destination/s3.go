package destination

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/veil-privacy/veil/internal/netguard"
)

// s3Target writes to an S3-compatible bucket with the customer's static
// credentials (never the server's own environment).
type s3Target struct {
	client *s3.Client
	cfg    *S3Config
}

func newS3Target(c *S3Config, sec Secrets, timeout time.Duration, g *netguard.Guard) *s3Target {
	// No proxy: it would connect on Veil's behalf, past the guard's
	// address check on the connected address.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = g.Dialer(timeout).DialContext
	opts := s3.Options{
		Region:      c.Region,
		Credentials: credentials.NewStaticCredentialsProvider(sec.AccessKeyID, sec.SecretAccessKey, sec.SessionToken),
		// Many S3-compatible servers reject the SDK's trailing checksums;
		// Veil verifies every object by reading it back instead.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		HTTPClient:                 &http.Client{Timeout: timeout, Transport: tr},
		RetryMaxAttempts:           1, // the push job retries with its own backoff
	}
	if c.Endpoint != "" {
		opts.BaseEndpoint = aws.String(c.Endpoint)
		opts.UsePathStyle = c.PathStyle
	}
	return &s3Target{client: s3.New(opts), cfg: c}
}

func (t *s3Target) key(name string) string {
	if t.cfg.Prefix == "" {
		return name
	}
	return path.Join(t.cfg.Prefix, name)
}

func (t *s3Target) Put(ctx context.Context, name string, data []byte) error {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(t.cfg.Bucket),
		Key:           aws.String(t.key(name)),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	}
	switch t.cfg.SSE {
	case SSEAES256:
		in.ServerSideEncryption = types.ServerSideEncryptionAes256
	case SSEKMS:
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		if t.cfg.KMSKeyID != "" {
			in.SSEKMSKeyId = aws.String(t.cfg.KMSKeyID)
		}
	}
	_, err := t.client.PutObject(ctx, in)
	return err
}

// ReadBack checks the size with HEAD, then reads the whole object for its
// checksum (an ETag is not a content hash under SSE-KMS or multipart).
func (t *s3Target) ReadBack(ctx context.Context, name string) (int64, [32]byte, error) {
	var sum [32]byte
	h, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(t.cfg.Bucket), Key: aws.String(t.key(name))})
	if err != nil {
		return 0, sum, err
	}
	out, err := t.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(t.cfg.Bucket), Key: aws.String(t.key(name))})
	if err != nil {
		return 0, sum, err
	}
	defer out.Body.Close()
	n, sum, err := hashReader(out.Body)
	if err != nil {
		return 0, sum, err
	}
	if h.ContentLength != nil && *h.ContentLength != n {
		return 0, sum, fmt.Errorf("HEAD says %d bytes, GET read %d", *h.ContentLength, n)
	}
	return n, sum, nil
}

func (t *s3Target) Delete(ctx context.Context, name string) error {
	_, err := t.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(t.cfg.Bucket), Key: aws.String(t.key(name))})
	return err
}

func (t *s3Target) Location() string {
	loc := "s3://" + t.cfg.Bucket + "/"
	if t.cfg.Prefix != "" {
		loc += t.cfg.Prefix + "/"
	}
	return loc
}

func (t *s3Target) Close() error { return nil }
