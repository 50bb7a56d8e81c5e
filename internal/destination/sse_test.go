package destination_test

import (
	"context"
	"testing"

	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/testenv"
)

// TestS3_SSEAES256 writes the probe with server-side encryption requested
// (x-amz-server-side-encryption: AES256) on the real S3 server.
func TestS3_SSEAES256(t *testing.T) {
	ctx := context.Background()
	bucket, endpoint, access, secret := testenv.S3Bucket(t)
	e := newEnv(t)
	in := s3Input(bucket, endpoint, access, secret, destination.ModeCopy)
	in.S3.SSE = destination.SSEAES256
	d, err := e.svc.Create(ctx, e.project.ProjectID, in)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := e.svc.Test(ctx, e.project.ProjectID, d.ID); err != nil || !res.Verified {
		t.Fatalf("probe with SSE AES256: %+v %v", res, err)
	}
}
