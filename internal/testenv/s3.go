package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Region is the region tests use with the versitygw server.
const S3Region = "us-east-1"

const s3Component = "s3 (versitygw)"

// s3srv is the one versitygw process shared by every test in a binary.
var s3srv struct {
	once   sync.Once
	mu     sync.Mutex // guards cmd, exited and dir
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait returned
	dir    string

	endpoint, access, secret string
	client                   *s3.Client
	missing                  string // why the server is unavailable, if it is
	buckets                  atomic.Int64
}

// S3 returns the endpoint (http://127.0.0.1:PORT) and root credentials of a
// real S3-compatible server, versitygw with its posix backend. The first
// call in a test binary starts it on a random port in a fresh temporary
// directory; later calls share it. Call StopS3 from TestMain to stop it and
// remove its directory (it also dies with the test binary).
//
// The binary is looked up as $VEIL_VERSITYGW, then <repo>/.ci/bin/versitygw,
// then versitygw on $PATH. If it is missing or does not start, the test is
// skipped, or fails under CI=true (see Missing).
func S3(tb testing.TB) (endpoint, accessKey, secretKey string) {
	tb.Helper()
	s3srv.once.Do(startS3)
	if s3srv.missing != "" {
		Missing(tb, s3Component, s3srv.missing)
	}
	return s3srv.endpoint, s3srv.access, s3srv.secret
}

// S3Bucket creates a new, empty bucket with a unique name on the shared
// server and returns its name along with what S3 returns.
func S3Bucket(tb testing.TB) (bucket, endpoint, accessKey, secretKey string) {
	tb.Helper()
	endpoint, accessKey, secretKey = S3(tb)
	var rnd [4]byte
	rand.Read(rnd[:])
	bucket = fmt.Sprintf("veil-test-%d-%s", s3srv.buckets.Add(1), hex.EncodeToString(rnd[:]))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s3srv.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		tb.Fatalf("testenv: create s3 bucket %s: %v", bucket, err)
	}
	return bucket, endpoint, accessKey, secretKey
}

// S3BlobURL creates a fresh bucket, points the AWS_* credential variables
// at the test server for the rest of the test (tb.Setenv, so not for
// parallel tests) and returns a --blobs URL for it, with prefix as the key
// prefix ("" for none).
func S3BlobURL(tb testing.TB, prefix string) string {
	tb.Helper()
	bucket, endpoint, access, secret := S3Bucket(tb)
	tb.Setenv("AWS_ACCESS_KEY_ID", access)
	tb.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	tb.Setenv("AWS_SESSION_TOKEN", "")
	u := url.URL{Scheme: "s3", Host: bucket, Path: "/" + prefix}
	u.RawQuery = url.Values{"endpoint": {endpoint}, "region": {S3Region}}.Encode()
	return u.String()
}

// StopS3 kills the shared versitygw server, if one was started, and
// removes its data directory. It is safe to call more than once; call it
// from TestMain after m.Run.
func StopS3() {
	s3srv.mu.Lock()
	defer s3srv.mu.Unlock()
	if s3srv.cmd != nil && s3srv.cmd.Process != nil {
		s3srv.cmd.Process.Kill()
		<-s3srv.exited
		s3srv.cmd = nil
	}
	if s3srv.dir != "" {
		os.RemoveAll(s3srv.dir)
		s3srv.dir = ""
	}
	if s3srv.endpoint != "" {
		s3srv.missing = "stopped by StopS3"
	}
}

// findVersitygw returns the server binary, or why there is none.
func findVersitygw() (string, error) {
	if p := os.Getenv("VEIL_VERSITYGW"); p != "" {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			return "", fmt.Errorf("VEIL_VERSITYGW=%s is not a file", p)
		}
		return p, nil
	}
	if root, ok := s3RepoRoot(); ok {
		p := filepath.Join(root, ".ci", "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	return "", errors.New("versitygw not found in $VEIL_VERSITYGW, .ci/bin or $PATH " +
		"(GOBIN=$PWD/.ci/bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
}

// s3RepoRoot walks up from the working directory to the directory holding
// go.mod.
func s3RepoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func startS3() {
	bin, err := findVersitygw()
	if err != nil {
		s3srv.missing = err.Error()
		return
	}
	s3srv.access = "veiltest"
	s3srv.secret = "veiltest-" + rand.Text()
	// A free port can be taken between probing and binding; retry.
	for range 3 {
		if err = launchS3(bin); err == nil {
			break
		}
	}
	if err != nil {
		s3srv.missing = "start " + bin + ": " + err.Error()
		return
	}
	s3srv.client = s3.New(s3.Options{
		Region:                     S3Region,
		BaseEndpoint:               aws.String(s3srv.endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(s3srv.access, s3srv.secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// launchS3 starts versitygw once and waits until it answers HTTP.
func launchS3(bin string) error {
	port, err := s3FreePort()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "veil-versitygw-")
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	out := &s3TailBuffer{max: 4096}
	cmd := exec.Command(bin, "--port", addr, "--quiet", "posix", dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s3srv.access, "ROOT_SECRET_KEY="+s3srv.secret)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = s3DieWithParent()
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()

	endpoint := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			os.RemoveAll(dir)
			return fmt.Errorf("exited early (%v): %s", cmd.ProcessState, out.String())
		default:
		}
		if resp, err := client.Get(endpoint + "/"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			os.RemoveAll(dir)
			return fmt.Errorf("no answer on %s after 30s: %s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s3srv.mu.Lock()
	s3srv.cmd, s3srv.exited, s3srv.dir, s3srv.endpoint = cmd, exited, dir, endpoint
	s3srv.mu.Unlock()
	return nil
}

func s3FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// s3TailBuffer keeps the last max bytes written to it, for error messages.
type s3TailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *s3TailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *s3TailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
