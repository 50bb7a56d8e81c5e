package blob_test

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/blob/blobtest"
	_ "github.com/veil-privacy/veil/internal/blob/local"
	_ "github.com/veil-privacy/veil/internal/blob/s3"
	"github.com/veil-privacy/veil/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopS3()
	os.Exit(code)
}

func TestOpen_Local(t *testing.T) {
	dataDir := t.TempDir()
	abs := filepath.Join(t.TempDir(), "elsewhere")
	tests := []struct {
		name, url, wantDir string
	}{
		{"Default", "", filepath.Join(dataDir, "blobs")},
		{"FileURL", "file://" + abs, abs},
		{"BarePath", abs + "/", abs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := blob.Open(context.Background(), tt.url, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			blobtest.MustPut(t, b, "p/k", []byte("v"))
			if _, err := os.Stat(filepath.Join(tt.wantDir, "p", "k")); err != nil {
				t.Fatalf("object not stored below %s: %v", tt.wantDir, err)
			}
		})
	}
}

func TestOpen_S3(t *testing.T) {
	rawURL := testenv.S3BlobURL(t, "veil/x")
	b, err := blob.Open(context.Background(), rawURL, "")
	if err != nil {
		t.Fatalf("Open(%s): %v", rawURL, err)
	}
	blobtest.MustPut(t, b, "p/k", []byte("v"))
	if got := blobtest.MustGet(t, b, "p/k"); string(got) != "v" {
		t.Fatalf("Get = %q", got)
	}
}

func TestOpen_S3MissingBucket(t *testing.T) {
	endpoint, access, secret := testenv.S3(t)
	t.Setenv("AWS_ACCESS_KEY_ID", access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	_, err := blob.Open(context.Background(), "s3://veil-missing?endpoint="+endpoint, "")
	if err == nil || !strings.Contains(err.Error(), `bucket "veil-missing" does not exist`) ||
		!strings.Contains(err.Error(), "create it or check --blobs") {
		t.Fatalf("Open(missing bucket) = %v, want a clear one-line error", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error leaks the secret: %v", err)
	}
}

func TestOpen_Errors(t *testing.T) {
	tests := []struct {
		name, url, dataDir, want string
	}{
		{"NoDataDir", "", "", "no --blobs URL and no --data"},
		{"UnknownScheme", "gs://bucket", "", `unsupported scheme "gs"`},
		{"NoScheme", "relative/dir", "", "no scheme"},
		{"UserInfo", "s3://AKID:hunter2@bucket", "", "credentials in the URL are not allowed"},
		{"RelativeFile", "file:relative", "", "absolute path"},
		{"FileHost", "file://host/abs", "", "file:///abs/path"},
		{"BadS3Param", "s3://b?endpont=http://x", "", "unknown query parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			_, err := blob.Open(context.Background(), tt.url, tt.dataDir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open(%q) = %v, want error containing %q", tt.url, err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestValidateKey(t *testing.T) {
	for _, key := range []string{"a", "a/b", "p/01J/s/01J/000001.seg", "ü/日本", "a..b", "a/b.c", "x-y_z~"} {
		if err := blob.ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", key, err)
		}
	}
	for _, key := range blobtest.InvalidKeys {
		if err := blob.ValidateKey(key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("ValidateKey(%.40q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"", "a", "a/", "a/b", "a/b/", "a/b/c."} {
		if err := blob.ValidatePrefix(p); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"/", "/a", "a//", "../", "a/.", "a\\b"} {
		if err := blob.ValidatePrefix(p); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("ValidatePrefix(%q) = %v, want ErrInvalidKey", p, err)
		}
	}
}

func TestErrNotFound_Code(t *testing.T) {
	if got := veil.ErrorCode(blob.ErrNotFound); got != veil.ENOTFOUND {
		t.Fatalf("ErrorCode(ErrNotFound) = %q, want %q", got, veil.ENOTFOUND)
	}
}

// FuzzValidateKey checks that every accepted key is a clean, local path,
// so no adapter can be steered outside its root.
func FuzzValidateKey(f *testing.F) {
	for _, k := range append([]string{"a/b", "p/1/s/2.seg", "a..b/c"}, blobtest.InvalidKeys...) {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if blob.ValidateKey(key) != nil {
			return
		}
		if path.Clean(key) != key || !filepath.IsLocal(key) || strings.Contains(key, "\\") || len(key) > blob.MaxKeyLen {
			t.Fatalf("ValidateKey accepted unsafe key %q", key)
		}
		if blob.ValidatePrefix(key) != nil {
			t.Fatalf("valid key %q is not a valid prefix", key)
		}
	})
}
