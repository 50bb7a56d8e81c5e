package blob

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Factory opens a Bucket from a parsed --blobs URL. Adapters register one
// per scheme with Register. A factory should check that the bucket is
// usable (as Ping does) so that a misconfiguration fails at startup with a
// clear message.
type Factory func(ctx context.Context, u *url.URL) (Bucket, error)

var (
	factoriesMu sync.RWMutex
	factories   = map[string]Factory{}
)

// adapterPackages names the package to import for each known scheme, for
// the error when one was not linked.
var adapterPackages = map[string]string{
	"file": "github.com/veil-privacy/veil/internal/blob/local",
	"s3":   "github.com/veil-privacy/veil/internal/blob/s3",
}

// Register makes an adapter available to Open under scheme. It is meant to
// be called from an adapter's init function and panics if scheme is
// registered twice.
func Register(scheme string, f Factory) {
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	if _, dup := factories[scheme]; dup {
		panic("blob: Register called twice for scheme " + scheme)
	}
	factories[scheme] = f
}

// Open returns the Bucket that rawURL (the --blobs flag, VEIL_BLOBS)
// describes:
//
//	""                                        local directory dataDir/blobs
//	file:///abs/path  or  /abs/path           local directory
//	s3://bucket/prefix?endpoint=URL&region=R  S3-compatible bucket
//
// S3 credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN, never from the URL. Errors show the URL with any user
// info redacted.
func Open(ctx context.Context, rawURL, dataDir string) (Bucket, error) {
	u, err := parseURL(rawURL, dataDir)
	if err != nil {
		return nil, err
	}
	factoriesMu.RLock()
	f := factories[u.Scheme]
	factoriesMu.RUnlock()
	if f == nil {
		if pkg, ok := adapterPackages[u.Scheme]; ok {
			return nil, fmt.Errorf("blobs %s: adapter for %s:// not linked into this program (import _ %q)", u.Redacted(), u.Scheme, pkg)
		}
		return nil, fmt.Errorf("blobs %s: unsupported scheme %q (want %s)", u.Redacted(), u.Scheme, strings.Join(schemes(), ", "))
	}
	b, err := f(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("blobs %s: %w", u.Redacted(), err)
	}
	return b, nil
}

// parseURL turns the flag value into a URL, resolving the default and bare
// absolute paths to file:// URLs.
func parseURL(rawURL, dataDir string) (*url.URL, error) {
	if rawURL == "" {
		if dataDir == "" {
			return nil, fmt.Errorf("blobs: no --blobs URL and no --data directory")
		}
		dir, err := filepath.Abs(filepath.Join(dataDir, "blobs"))
		if err != nil {
			return nil, fmt.Errorf("blobs: resolve data dir: %w", err)
		}
		return &url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}, nil
	}
	if filepath.IsAbs(rawURL) {
		return &url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Clean(rawURL))}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the raw URL, which might hold a secret: drop it.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("blobs: parse URL: %w (want s3://bucket/prefix?endpoint=…&region=… or file:///abs/path)", err)
	}
	if u.Scheme == "" {
		return nil, fmt.Errorf("blobs %s: no scheme (want s3://bucket/prefix?endpoint=…&region=… or file:///abs/path)", u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("blobs %s: credentials in the URL are not allowed; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", u.Redacted())
	}
	return u, nil
}

func schemes() []string {
	factoriesMu.RLock()
	defer factoriesMu.RUnlock()
	var s []string
	for k := range factories {
		s = append(s, k+"://")
	}
	slices.Sort(s)
	return s
}
