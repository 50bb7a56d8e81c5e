package s3

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil/internal/blob"
)

func init() {
	blob.Register("s3", func(ctx context.Context, u *url.URL) (blob.Bucket, error) {
		cfg, err := ConfigFromURL(u, os.Getenv)
		if err != nil {
			return nil, err
		}
		return New(ctx, cfg)
	})
}

// DefaultRegion is used when the URL names none. S3-compatible servers
// generally accept any region; AWS needs the bucket's own.
const DefaultRegion = "us-east-1"

// Config says where a Bucket lives and how to sign requests. Its String,
// GoString and LogValue methods redact the secret and session token.
type Config struct {
	Bucket string // bucket name (required)
	Prefix string // key prefix inside the bucket, e.g. "veil/prod"; "" for none

	// Endpoint is the base URL of an S3-compatible server, such as
	// http://127.0.0.1:9000. Empty means AWS S3. With an endpoint,
	// requests use path-style addressing unless VirtualHost is set.
	Endpoint    string
	VirtualHost bool
	Region      string // defaults to DefaultRegion

	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string

	// HTTPClient overrides the SDK's default HTTP client (tests, proxies).
	HTTPClient *http.Client
}

// ConfigFromURL parses s3://bucket/prefix?endpoint=URL&region=R&virtual_host=false
// and takes credentials from getenv (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); pass os.Getenv.
func ConfigFromURL(u *url.URL, getenv func(string) string) (Config, error) {
	if u.Scheme != "s3" {
		return Config{}, fmt.Errorf("not an s3:// URL")
	}
	if u.User != nil {
		return Config{}, fmt.Errorf("credentials in the URL are not allowed; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	cfg := Config{
		Bucket:          u.Host,
		Prefix:          strings.Trim(u.Path, "/"),
		Region:          DefaultRegion,
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
	}
	if r := getenv("AWS_REGION"); r != "" {
		cfg.Region = r
	}
	for k, v := range u.Query() {
		val := v[len(v)-1]
		switch k {
		case "endpoint":
			cfg.Endpoint = val
		case "region":
			cfg.Region = val
		case "virtual_host":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return Config{}, fmt.Errorf("virtual_host=%q: want true or false", val)
			}
			cfg.VirtualHost = b
		default:
			return Config{}, fmt.Errorf("unknown query parameter %q (want endpoint, region, virtual_host)", k)
		}
	}
	return cfg, cfg.validate()
}

func (c Config) validate() error {
	if c.Bucket == "" {
		return fmt.Errorf("s3 URL needs a bucket: s3://bucket/prefix")
	}
	if c.Prefix != "" {
		if err := blob.ValidateKey(strings.TrimSuffix(c.Prefix, "/")); err != nil {
			return fmt.Errorf("s3 prefix: %w", err)
		}
	}
	if c.Endpoint != "" {
		e, err := url.Parse(c.Endpoint)
		if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return fmt.Errorf("s3 endpoint %q: want http://host:port or https://host", c.Endpoint)
		}
		if e.User != nil {
			return fmt.Errorf("s3 endpoint must not contain credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
		}
	}
	if c.Region == "" {
		return fmt.Errorf("s3 region is empty")
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return fmt.Errorf("s3 credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	return nil
}

// String describes c without secrets.
func (c Config) String() string {
	return fmt.Sprintf("s3.Config{Bucket:%q Prefix:%q Endpoint:%q Region:%q AccessKeyID:%q SecretAccessKey:[redacted]}",
		c.Bucket, c.Prefix, c.Endpoint, c.Region, c.AccessKeyID)
}

// GoString is String, so %#v does not print secrets either.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("bucket", c.Bucket),
		slog.String("prefix", c.Prefix),
		slog.String("endpoint", c.Endpoint),
		slog.String("region", c.Region),
	)
}
