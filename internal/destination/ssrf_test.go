package destination_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/netguard"
	"github.com/veil-privacy/veil/internal/testenv"
)

const allowEnv = "VEIL_DESTINATION_ALLOW_PRIVATE=true"

// TestSSRF_RefusedWhenAdded: S3 endpoints and SFTP hosts on loopback,
// private, link-local or metadata addresses (and localhost) are refused
// when a destination is added, with a message naming the operator's
// opt-in; with it they are accepted.
func TestSSRF_RefusedWhenAdded(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	guarded := &destination.Service{Store: e.db, Master: e.master}
	_, pub := clientKey(t)
	srv := testenv.SFTP(t, pub)
	key, _ := clientKey(t)
	for _, tt := range []struct{ host, want string }{
		{"127.0.0.1", "destination 127.0.0.1 refused: loopback address"},
		{"10.0.0.5", "destination 10.0.0.5 refused: private address"},
		{"169.254.169.254", "destination 169.254.169.254 refused: cloud metadata address"},
		{"::1", "destination ::1 refused: loopback address"},
		{"localhost", "destination localhost refused: loopback address"},
	} {
		endpoint := "http://" + tt.host + ":9000"
		if strings.Contains(tt.host, ":") {
			endpoint = "http://[" + tt.host + "]:9000"
		}
		sftp := sftpInput(srv, destination.ModeCopy, key, "")
		sftp.SFTP.Host = tt.host
		for name, in := range map[string]destination.Input{
			"s3":   s3Input("veil-bucket", endpoint, "AK", "SK", destination.ModeCopy),
			"sftp": sftp,
		} {
			_, err := guarded.Create(ctx, e.project.ProjectID, in)
			if veil.ErrorCode(err) != veil.EINVALID || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), allowEnv) {
				t.Errorf("%s %s: %v, want %q naming %s", name, tt.host, err, tt.want, allowEnv)
			}
			if _, err := e.svc.Create(ctx, e.project.ProjectID, in); err != nil { // e.svc allows private targets
				t.Errorf("%s %s with private targets allowed: %v", name, tt.host, err)
			}
		}
	}
	for _, in := range []destination.Input{
		s3Input("veil-bucket", "https://s3.eu-west-1.amazonaws.com", "AK", "SK", destination.ModeCopy),
		s3Input("veil-bucket", "", "AK", "SK", destination.ModeCopy),
	} {
		if _, err := guarded.Create(ctx, e.project.ProjectID, in); err != nil {
			t.Errorf("public endpoint %q refused: %v", in.S3.Endpoint, err)
		}
	}
}

// TestSSRF_RefusedWhenConnecting: destinations whose host name resolves
// to loopback ("localhost", the real versitygw and SFTP servers) are
// refused on the connected address by a server without the opt-in — the
// probe fails with the guard's error and pushes fail with code "blocked",
// nothing is sent or deleted — and work with it.
func TestSSRF_RefusedWhenConnecting(t *testing.T) {
	ctx := context.Background()
	bucket, endpoint, access, secret := testenv.S3Bucket(t)
	e := newEnv(t)
	key, pub := clientKey(t)
	srv := testenv.SFTP(t, pub)
	s3in := s3Input(bucket, strings.Replace(endpoint, "127.0.0.1", "localhost", 1), access, secret, destination.ModeDoNotStore)
	sftpIn := sftpInput(srv, destination.ModeDoNotStore, key, "")
	sftpIn.SFTP.Host = "localhost"
	guarded := &destination.Service{Store: e.db, Blobs: e.svc.Blobs, Master: e.master, Logger: e.svc.Logger, Now: e.clock.Now,
		NodeID: "node-guarded", Version: "test", Jitter: func() float64 { return 0.5 }, Timeout: 10 * time.Second}
	var ids []string
	for _, in := range []destination.Input{s3in, sftpIn} {
		d, err := e.svc.Create(ctx, e.project.ProjectID, in) // added by an operator who allowed private targets
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
		_, err = guarded.Test(ctx, e.project.ProjectID, d.ID)
		var be *netguard.BlockedError
		if !errors.As(err, &be) || be.Reason != "loopback" || !strings.Contains(err.Error(), allowEnv) {
			t.Fatalf("%s probe without the opt-in: %v, want a loopback refusal", in.Kind, err)
		}
		if res, err := e.svc.Test(ctx, e.project.ProjectID, d.ID); err != nil || !res.Verified {
			t.Fatalf("%s probe with the opt-in: %+v %v", in.Kind, res, err)
		}
	}
	e.replay("ses_guarded", 0)
	e.pack()
	e.clock.Advance(time.Hour)
	for range 3 { // three failed tries raise the alert
		if r, err := guarded.RunOnce(ctx); err != nil || r.Failed != 2 || r.Pushed != 0 || r.Deleted != 0 {
			t.Fatalf("guarded run = %+v %v", r, err)
		}
		e.clock.Advance(2 * time.Hour)
	}
	for _, id := range ids {
		if v, _ := e.svc.Find(ctx, e.project.ProjectID, id); v.Alert != "blocked" {
			t.Errorf("alert of %s = %q, want blocked", id, v.Alert)
		}
	}
	if _, err := e.replayText("ses_guarded"); err != nil {
		t.Fatalf("a refused push must not delete anything: %v", err)
	}
	if r := e.run(); r.Pushed != 2 || r.Deleted != 1 {
		t.Fatalf("run with the opt-in = %+v", r)
	}
}
