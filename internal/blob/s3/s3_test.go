package s3_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/blob/blobtest"
	"github.com/veil-privacy/veil/internal/blob/s3"
	"github.com/veil-privacy/veil/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopS3()
	os.Exit(code)
}

// MustOpen returns a Bucket on a fresh bucket of the test S3 server, below
// prefix ("" for none).
func MustOpen(tb testing.TB, prefix string) (*s3.Bucket, s3.Config) {
	tb.Helper()
	bucket, endpoint, access, secret := testenv.S3Bucket(tb)
	cfg := s3.Config{
		Bucket:          bucket,
		Prefix:          prefix,
		Endpoint:        endpoint,
		Region:          testenv.S3Region,
		AccessKeyID:     access,
		SecretAccessKey: secret,
	}
	b, err := s3.New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("s3.New(%v): %v", cfg, err)
	}
	return b, cfg
}

func TestBucket(t *testing.T) {
	blobtest.RunSuite(t, func(t *testing.T) blob.Bucket { b, _ := MustOpen(t, ""); return b })
}

func TestBucket_Prefix(t *testing.T) {
	blobtest.RunSuite(t, func(t *testing.T) blob.Bucket { b, _ := MustOpen(t, "veil/prod"); return b })
}

// TestBucket_PrefixIsolation checks that a prefixed Bucket stores below its
// prefix and sees nothing outside it.
func TestBucket_PrefixIsolation(t *testing.T) {
	ctx := context.Background()
	prefixed, cfg := MustOpen(t, "tenant/a")
	cfg.Prefix = ""
	whole, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	blobtest.MustPut(t, whole, "outside/x", []byte("o"))
	blobtest.MustPut(t, whole, "tenant/ab", []byte("o")) // shares a string prefix, not the segment
	blobtest.MustPut(t, prefixed, "k/1", []byte("in"))

	var got []string
	if err := whole.List(ctx, "", func(i blob.Info) error { got = append(got, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"outside/x", "tenant/a/k/1", "tenant/ab"}; !slices.Equal(got, want) {
		t.Fatalf("whole bucket = %q, want %q", got, want)
	}
	got = nil
	if err := prefixed.List(ctx, "", func(i blob.Info) error { got = append(got, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"k/1"}; !slices.Equal(got, want) {
		t.Fatalf("prefixed bucket = %q, want %q", got, want)
	}
	if _, err := prefixed.Get(ctx, "outside/x"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("prefixed Get(outside) = %v, want ErrNotFound", err)
	}
}

func TestNew_Errors(t *testing.T) {
	_, endpoint, access, secret := testenv.S3Bucket(t)
	existing, _, _, _ := testenv.S3Bucket(t)
	tests := []struct {
		name string
		cfg  s3.Config
		want []string // substrings of the error
	}{
		{
			name: "MissingBucket",
			cfg:  s3.Config{Bucket: "no-such-bucket", Endpoint: endpoint, Region: "us-east-1", AccessKeyID: access, SecretAccessKey: secret},
			want: []string{`"no-such-bucket" does not exist`, endpoint, "create it or check --blobs"},
		},
		{
			name: "WrongSecret",
			cfg:  s3.Config{Bucket: existing, Endpoint: endpoint, Region: "us-east-1", AccessKeyID: access, SecretAccessKey: "wrong-secret-value"},
			want: []string{"access denied", "AWS_SECRET_ACCESS_KEY"},
		},
		{
			name: "Unreachable",
			cfg:  s3.Config{Bucket: existing, Endpoint: "http://127.0.0.1:1", Region: "us-east-1", AccessKeyID: access, SecretAccessKey: secret},
			want: []string{"unreachable", "127.0.0.1:1"},
		},
		{
			name: "NoCredentials",
			cfg:  s3.Config{Bucket: existing, Endpoint: endpoint, Region: "us-east-1"},
			want: []string{"credentials missing", "AWS_ACCESS_KEY_ID"},
		},
		{
			name: "BadEndpoint",
			cfg:  s3.Config{Bucket: existing, Endpoint: "ftp://x", Region: "us-east-1", AccessKeyID: access, SecretAccessKey: secret},
			want: []string{"want http://host:port"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := s3.New(ctx, tt.cfg)
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, s := range []string{secret, "wrong-secret-value"} {
				if strings.Contains(msg, s) {
					t.Errorf("error leaks the secret: %q", msg)
				}
			}
		})
	}
}

func TestConfigFromURL(t *testing.T) {
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "tok"}
	tests := []struct {
		url     string
		env     map[string]string
		want    s3.Config
		wantErr string
	}{
		{
			url:  "s3://bkt/veil/prod?endpoint=http://127.0.0.1:9000&region=eu-west-1",
			env:  env,
			want: s3.Config{Bucket: "bkt", Prefix: "veil/prod", Endpoint: "http://127.0.0.1:9000", Region: "eu-west-1", AccessKeyID: "AKID", SecretAccessKey: "s3cr3t", SessionToken: "tok"},
		},
		{
			url:  "s3://bkt",
			env:  env,
			want: s3.Config{Bucket: "bkt", Region: s3.DefaultRegion, AccessKeyID: "AKID", SecretAccessKey: "s3cr3t", SessionToken: "tok"},
		},
		{
			url:  "s3://bkt/p/?virtual_host=true&endpoint=https://s3.example.com",
			env:  env,
			want: s3.Config{Bucket: "bkt", Prefix: "p", Endpoint: "https://s3.example.com", VirtualHost: true, Region: s3.DefaultRegion, AccessKeyID: "AKID", SecretAccessKey: "s3cr3t", SessionToken: "tok"},
		},
		{url: "s3://bkt?endpoint=http://x&regoin=eu", env: env, wantErr: `unknown query parameter "regoin"`},
		{url: "s3://bkt", env: map[string]string{}, wantErr: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
		{url: "s3:///prefix", env: env, wantErr: "needs a bucket"},
		{url: "s3://bkt/../etc", env: env, wantErr: "s3 prefix"},
		{url: "s3://bkt?endpoint=127.0.0.1:9000", env: env, wantErr: "want http://host:port"},
		{url: "s3://bkt?virtual_host=maybe", env: env, wantErr: "virtual_host"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s3.ConfigFromURL(u, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("ConfigFromURL = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestConfig_Redacted(t *testing.T) {
	cfg := s3.Config{Bucket: "b", AccessKeyID: "AKID", SecretAccessKey: "very-secret", SessionToken: "session-secret"}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg)} {
		if strings.Contains(s, "very-secret") || strings.Contains(s, "session-secret") {
			t.Fatalf("formatted Config leaks a secret: %s", s)
		}
	}
}
