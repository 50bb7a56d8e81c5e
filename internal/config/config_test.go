package config_test

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/config"
)

func TestApplyEnv_Precedence(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantAddr string
		wantData string
		wantKey  string
	}{
		{name: "Default", wantAddr: "127.0.0.1:8080", wantData: "./veil-data"},
		{name: "EnvOverridesDefault", env: map[string]string{"VEIL_ADDR": "127.0.0.1:9", "VEIL_DATA": "/d"}, wantAddr: "127.0.0.1:9", wantData: "/d"},
		{name: "FlagOverridesEnv", args: []string{"--addr", "127.0.0.1:7"}, env: map[string]string{"VEIL_ADDR": "127.0.0.1:9"}, wantAddr: "127.0.0.1:7", wantData: "./veil-data"},
		{name: "MasterKeyFromEnvOnly", env: map[string]string{"VEIL_MASTER_KEY": "abc"}, wantAddr: "127.0.0.1:8080", wantData: "./veil-data", wantKey: "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			c.BindStorage(fs)
			c.BindServer(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := c.ApplyEnv(fs, func(k string) string { return tt.env[k] }); err != nil {
				t.Fatal(err)
			}
			if c.Addr != tt.wantAddr || c.Data != tt.wantData || c.MasterKey != tt.wantKey {
				t.Fatalf("got addr=%q data=%q key=%q, want %q %q %q", c.Addr, c.Data, c.MasterKey, tt.wantAddr, tt.wantData, tt.wantKey)
			}
		})
	}
}

func TestApplyEnv_BadValueNamesVariable(t *testing.T) {
	c := config.Default()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var n int
	fs.IntVar(&n, "workers", 1, "")
	c.BindStorage(fs)
	err := c.ApplyEnv(fs, func(k string) string {
		if k == "VEIL_WORKERS" {
			return "many"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "VEIL_WORKERS") {
		t.Fatalf("want error naming VEIL_WORKERS, got %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(c *config.Config)
		wantErr string // substring; "" = valid
	}{
		{name: "Defaults", mod: func(c *config.Config) {}},
		{name: "Postgres", mod: func(c *config.Config) { c.Database = "postgres://u@127.0.0.1/db" }},
		{name: "MySQL", mod: func(c *config.Config) { c.Database = "mysql://x" }, wantErr: "--database must be a postgres:// URL"},
		{name: "S3NoBucket", mod: func(c *config.Config) { c.Blobs = "s3:///prefix" }, wantErr: "needs a bucket"},
		{name: "BlobsScheme", mod: func(c *config.Config) { c.Blobs = "gs://b" }, wantErr: "--blobs must be"},
		{name: "LogFormat", mod: func(c *config.Config) { c.LogFormat = "xml" }, wantErr: "--log-format"},
		{name: "LogLevel", mod: func(c *config.Config) { c.LogLevel = "loud" }, wantErr: "--log-level"},
		{name: "Addr", mod: func(c *config.Config) { c.Addr = "8080" }, wantErr: "--addr"},
		{name: "CertWithoutKey", mod: func(c *config.Config) { c.TLSCert = "/x" }, wantErr: "together"},
		{name: "ACMEAndCert", mod: func(c *config.Config) { c.TLSACMEDomain = "a.example"; c.TLSCert, c.TLSKey = "/c", "/k" }, wantErr: "exclusive"},
		{name: "MissingCertFile", mod: func(c *config.Config) { c.TLSCert, c.TLSKey = "/nonexistent/c", "/nonexistent/k" }, wantErr: "/nonexistent/c"},
		{name: "BaseURL", mod: func(c *config.Config) { c.BaseURL = "veil.example.com" }, wantErr: "--base-url"},
		{name: "PprofWithoutMetricsAddr", mod: func(c *config.Config) { c.Pprof = true }, wantErr: "--pprof needs --metrics-addr"},
		{name: "PprofOnMetricsAddr", mod: func(c *config.Config) { c.Pprof = true; c.MetricsAddr = "127.0.0.1:9090" }},
		{name: "SegmentCodec", mod: func(c *config.Config) { c.SegmentCodec = "gzip" }, wantErr: "--segment-codec"},
		{name: "SegmentCodecZstd", mod: func(c *config.Config) { c.SegmentCodec = "zstd" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.mod(&c)
			err := c.ValidateStorage()
			if err == nil {
				err = c.ValidateServer()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestMasterKeyPath(t *testing.T) {
	c := config.Default()
	c.Data = "/srv/veil"
	if p, beside := c.MasterKeyPath(); p != "/srv/veil/master.key" || !beside {
		t.Fatalf("default: %s %v", p, beside)
	}
	c.MasterKeyFile = "/etc/veil/master.key"
	if _, beside := c.MasterKeyPath(); beside {
		t.Fatal("key outside data dir reported as beside it")
	}
	c.MasterKeyFile = "/srv/veil/sub/k"
	if _, beside := c.MasterKeyPath(); !beside {
		t.Fatal("key inside data dir not reported")
	}
}
