package destination_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/testenv"
)

// flakyProxy forwards to the real S3 server and can be taken down and
// brought back on the same port (a destination outage).
type flakyProxy struct {
	t    *testing.T
	addr string
	h    http.Handler
	mu   sync.Mutex
	srv  *http.Server
}

func newFlakyProxy(t *testing.T, upstream string) *flakyProxy {
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{t: t, h: httputil.NewSingleHostReverseProxy(u)}
	p.up("127.0.0.1:0")
	t.Cleanup(p.down)
	return p
}

func (p *flakyProxy) up(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.addr = ln.Addr().String()
	p.srv = &http.Server{Handler: p.h}
	srv := p.srv
	p.mu.Unlock()
	go srv.Serve(ln)
}

func (p *flakyProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		p.srv.Close()
		p.srv = nil
	}
}

func s3Client(endpoint, access, secret string) *s3.Client {
	return s3.New(s3.Options{Region: testenv.S3Region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(access, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired})
}

func s3Input(bucket, endpoint, access, secret, mode string) destination.Input {
	return destination.Input{Name: "lake", Kind: destination.KindS3, Mode: mode,
		S3: &destination.S3Config{Bucket: bucket, Prefix: "veil/replays", Region: testenv.S3Region,
			Endpoint: endpoint, PathStyle: true},
		Secrets: destination.Secrets{AccessKeyID: access, SecretAccessKey: secret}}
}

// TestS3_CopyWithOutage pushes to a real S3 server (versitygw) through a
// proxy that is down at first: the pushes back off and alert, then succeed
// when it is back; in copy mode Veil keeps its copy; the probe works.
func TestS3_CopyWithOutage(t *testing.T) {
	ctx := context.Background()
	bucket, endpoint, access, secret := testenv.S3Bucket(t)
	e := newEnv(t)
	ep := e.subscribe()
	px := newFlakyProxy(t, endpoint)
	d, err := e.svc.Create(ctx, e.project.ProjectID, s3Input(bucket, "http://"+px.addr, access, secret, destination.ModeCopy))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := e.svc.Test(ctx, e.project.ProjectID, d.ID); err != nil || !res.Verified ||
		!strings.HasPrefix(res.Location, "s3://"+bucket+"/veil/replays/") {
		t.Fatalf("probe: %+v %v", res, err)
	}

	e.replay("ses_s3copy", 0)
	e.pack()
	e.clock.Advance(time.Hour)
	px.down()
	for i := 0; i < 3; i++ {
		if r := e.run(); r.Failed != 1 {
			t.Fatalf("attempt %d during the outage: %+v", i+1, r)
		}
		e.clock.Advance(10 * time.Minute)
	}
	types, _ := e.outbox(ep)
	if count(types, "destination.failed") != 1 {
		t.Fatalf("outbox = %v", types)
	}
	if v, _ := e.svc.Find(ctx, e.project.ProjectID, d.ID); v.Alert == "" {
		t.Fatal("no alert after 3 failed attempts")
	}

	px.up(px.addr)
	e.clock.Advance(time.Hour)
	if r := e.run(); r.Pushed != 1 || r.Deleted != 0 {
		t.Fatalf("after the outage: %+v", r)
	}
	key := "veil/replays/" + e.project.ProjectID + "/" + time.Now().UTC().Format("2006/01/02") + "/ses_s3copy/events.json.gz"
	out, err := s3Client(endpoint, access, secret).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	raw, _ := io.ReadAll(out.Body)
	out.Body.Close()
	want, err := e.replayText("ses_s3copy")
	if err != nil {
		t.Fatalf("copy mode must keep Veil's copy: %v", err)
	}
	if got := gunzip(t, raw); got != want {
		t.Fatalf("pushed %.200s, stored %.200s", got, want)
	}
	v, _ := e.svc.Find(ctx, e.project.ProjectID, d.ID)
	if v.Alert != "" || v.Pushes.Done != 1 || v.Pushes.Pending != 0 {
		t.Fatalf("destination after recovery: %+v", v)
	}
	types, payloads := e.outbox(ep)
	if types[len(types)-1] != "recording.pushed" || !strings.Contains(payloads[len(payloads)-1], `"destination_id":"`+d.ID+`"`) {
		t.Fatalf("last message %s %s", types[len(types)-1], payloads[len(payloads)-1])
	}
}

// TestS3_ClosedPort: a destination on a port nobody listens on fails with
// a clear probe error and the unreachable code.
func TestS3_ClosedPort(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	d, err := e.svc.Create(ctx, e.project.ProjectID, s3Input("veil-bucket", "http://"+addr, "AK", "SK", destination.ModeDoNotStore))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Test(ctx, e.project.ProjectID, d.ID); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("probe of a closed port: %v", err)
	}
	e.replay("ses_closed", 0)
	e.pack()
	e.clock.Advance(time.Hour)
	if r := e.run(); r.Failed != 1 || r.Deleted != 0 {
		t.Fatalf("run = %+v", r)
	}
	if _, err := e.replayText("ses_closed"); err != nil {
		t.Fatalf("a failed push must not delete anything: %v", err)
	}
}
