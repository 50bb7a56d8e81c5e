// Package config holds Veil's runtime configuration: defaults, flags, the
// VEIL_* environment variables and validation with errors that name the
// problem and the fix. There is no package-level state; commands build a
// Config, bind it to their flag set, and pass the value down.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is everything `veil serve` and the admin commands need to find
// storage and run the server.
type Config struct {
	// Storage (shared by every command that touches data).
	Data          string // data directory: veil.db, blobs/, master.key (embedded mode)
	Database      string // "" = SQLite in Data; postgres://… for scale-out
	Blobs         string // "" = Data/blobs; file:///path or s3://bucket/prefix?…
	MasterKeyFile string // "" = Data/master.key in embedded mode
	MasterKey     string // VEIL_MASTER_KEY only: never a flag, so it stays out of ps

	// Server.
	Addr          string
	MetricsAddr   string
	Pprof         bool // Go profiler on the metrics listener (needs MetricsAddr)
	BaseURL       string
	TLSCert       string
	TLSKey        string
	TLSACMEDomain string
	Demo          bool
	WALDir        string // "" = DATA/wal
	WALSegmentMB  int    // write-ahead log segment file size
	SegmentCodec  string // replay segments' codec: "s2" (cheap to write) or "zstd" (smaller)
	// RecompressAfter: packs of S2 segments this old are re-sealed with
	// zstd by the hourly job (0 = never).
	RecompressAfter time.Duration
	RatePerKey      float64 // ingest requests per second per write key (0 = unlimited)
	RatePerIP       float64 // ingest requests per second per client IP (0 = unlimited)

	// Logging.
	LogFormat string
	LogLevel  string
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Data:         "./veil-data",
		Addr:         "127.0.0.1:8080",
		LogFormat:    "text",
		LogLevel:     "info",
		RatePerKey:   5000,
		WALSegmentMB: 64,
		SegmentCodec: "s2",
		RatePerIP:    5000,

		RecompressAfter: time.Hour,
	}
}

// BindStorage registers the storage and logging flags every data command
// takes.
func (c *Config) BindStorage(fs *flag.FlagSet) {
	fs.StringVar(&c.Data, "data", c.Data, "data directory (SQLite database, local blobs, generated master key)")
	fs.StringVar(&c.Database, "database", c.Database, "metadata database: empty for SQLite in --data, or postgres://user:pass@host/db")
	fs.StringVar(&c.Blobs, "blobs", c.Blobs, "blob store: empty for DATA/blobs, file:///path, or s3://bucket/prefix?endpoint=URL&region=R")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", c.MasterKeyFile, "file holding the base64 master key (default DATA/master.key; or set VEIL_MASTER_KEY)")
	c.BindLogging(fs)
}

// BindLogging registers --log-format and --log-level.
func (c *Config) BindLogging(fs *flag.FlagSet) {
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
}

// BindServer registers the flags of `veil serve` (and `veil doctor`, which
// judges the same settings).
func (c *Config) BindServer(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on (host:port)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "serve /metrics on this separate address instead of --addr")
	fs.BoolVar(&c.Pprof, "pprof", c.Pprof, "serve the Go profiler (/debug/pprof/) on --metrics-addr, never on --addr (needs --metrics-addr)")
	fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, "public URL of this server, e.g. https://veil.example.com")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "TLS certificate file (PEM); needs --tls-key")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS private key file (PEM); needs --tls-cert")
	fs.StringVar(&c.TLSACMEDomain, "tls-acme-domain", c.TLSACMEDomain, "obtain a certificate for this domain automatically (ACME, TLS-ALPN-01)")
	fs.StringVar(&c.WALDir, "wal-dir", c.WALDir, "ingest write-ahead log directory, on a local disk of this node (default DATA/wal)")
	fs.IntVar(&c.WALSegmentMB, "wal-segment-mb", c.WALSegmentMB, "size of write-ahead log segment files in MB; space is freed a whole segment at a time")
	fs.StringVar(&c.SegmentCodec, "segment-codec", c.SegmentCodec, "codec of stored replay segments: s2 (about a fifth of zstd's CPU per upload, ~40% larger) or zstd")
	fs.DurationVar(&c.RecompressAfter, "recompress-after", c.RecompressAfter, "re-seal S2 replay segments with zstd (about 40% smaller at rest) once their pack is this old, in the hourly job (0 = never)")
	fs.Float64Var(&c.RatePerKey, "rate-per-key", c.RatePerKey, "ingest requests per second allowed per write key (0 = unlimited)")
	fs.Float64Var(&c.RatePerIP, "rate-per-ip", c.RatePerIP, "ingest requests per second allowed per client IP (0 = unlimited)")
}

// WALPath returns the ingest write-ahead log directory.
func (c *Config) WALPath() string {
	if c.WALDir != "" {
		return c.WALDir
	}
	return filepath.Join(c.Data, "wal")
}

// ApplyEnv sets every flag of fs that was not given on the command line from
// its VEIL_* environment variable (--master-key-file ← VEIL_MASTER_KEY_FILE).
// Precedence is flag > environment > default. It also reads VEIL_MASTER_KEY.
func (c *Config) ApplyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		name := EnvName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("environment variable %s=%q: %w", name, v, err))
		}
	})
	if v := getenv("VEIL_MASTER_KEY"); v != "" {
		c.MasterKey = v
	}
	return errors.Join(errs...)
}

// EnvName returns the environment variable read for a flag name.
func EnvName(flagName string) string {
	return "VEIL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Embedded reports whether the metadata store is the embedded SQLite file.
func (c *Config) Embedded() bool { return c.Database == "" }

// DatabaseDSN returns the DSN handed to the store: the Postgres URL, or the
// SQLite file inside the data directory.
func (c *Config) DatabaseDSN() string {
	if c.Database != "" {
		return c.Database
	}
	return filepath.Join(c.Data, "veil.db")
}

// MasterKeyPath returns where the master key file is read from, and whether
// it is the default file inside the data directory.
func (c *Config) MasterKeyPath() (path string, beside bool) {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile, insideDir(c.Data, c.MasterKeyFile)
	}
	return filepath.Join(c.Data, "master.key"), true
}

// TLS reports whether the server terminates TLS itself.
func (c *Config) TLS() bool { return c.TLSCert != "" || c.TLSACMEDomain != "" }

// ValidateStorage checks the storage and logging settings.
func (c *Config) ValidateStorage() error {
	var errs []error
	if c.Data == "" {
		errs = append(errs, errors.New("--data is empty: give a directory for Veil's data (default ./veil-data)"))
	}
	if c.Database != "" {
		u, err := url.Parse(c.Database)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, fmt.Errorf("--database must be a postgres:// URL (or empty for embedded SQLite), got scheme %q", schemeOf(c.Database)))
		}
	}
	if c.Blobs != "" {
		u, err := url.Parse(c.Blobs)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("--blobs is not a URL: %v", err))
		case u.Scheme == "s3" && u.Host == "":
			errs = append(errs, errors.New("--blobs s3:// URL needs a bucket: s3://BUCKET/prefix?endpoint=URL&region=R"))
		case u.Scheme != "s3" && u.Scheme != "file":
			errs = append(errs, fmt.Errorf("--blobs must be file:///path or s3://bucket/prefix, got scheme %q", u.Scheme))
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format must be text or json, got %q", c.LogFormat))
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ValidateServer checks the server settings (call ValidateStorage too).
func (c *Config) ValidateServer() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr %q is not host:port (e.g. 127.0.0.1:8080)", c.Addr))
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-addr %q is not host:port", c.MetricsAddr))
		}
	}
	if c.Pprof && c.MetricsAddr == "" {
		errs = append(errs, errors.New("--pprof needs --metrics-addr: the profiler is only served on the private metrics listener"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key must be given together"))
	}
	if c.TLSACMEDomain != "" && c.TLSCert != "" {
		errs = append(errs, errors.New("--tls-acme-domain and --tls-cert are exclusive: choose automatic or file certificates"))
	}
	for _, f := range []string{c.TLSCert, c.TLSKey} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			errs = append(errs, fmt.Errorf("TLS file %s: %w", f, unwrapPathErr(err)))
		}
	}
	if c.WALSegmentMB < 1 || c.WALSegmentMB > 4096 {
		errs = append(errs, fmt.Errorf("--wal-segment-mb must be between 1 and 4096, got %d", c.WALSegmentMB))
	}
	if c.SegmentCodec != "s2" && c.SegmentCodec != "zstd" {
		errs = append(errs, fmt.Errorf("--segment-codec must be s2 or zstd, got %q", c.SegmentCodec))
	}
	if c.RecompressAfter < 0 {
		errs = append(errs, fmt.Errorf("--recompress-after must be 0 (never) or positive, got %s", c.RecompressAfter))
	}
	if c.RatePerKey < 0 || c.RatePerIP < 0 {
		errs = append(errs, errors.New("--rate-per-key and --rate-per-ip must be 0 (unlimited) or positive"))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--base-url %q must be an absolute http(s) URL", c.BaseURL))
		}
	}
	return errors.Join(errs...)
}

func schemeOf(s string) string {
	if i := strings.Index(s, "://"); i > 0 {
		return s[:i]
	}
	return ""
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func insideDir(dir, path string) bool {
	d, err1 := filepath.Abs(dir)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
