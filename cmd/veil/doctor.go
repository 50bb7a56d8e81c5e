package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/store"
)

// Finding severities. Any critical finding makes `veil doctor` exit 1.
const (
	sevOK       = "ok"
	sevInfo     = "info"
	sevWarn     = "warning"
	sevCritical = "critical"
)

type finding struct {
	Severity string `json:"severity"`
	Check    string `json:"check"`
	Message  string `json:"message"`
	Fix      string `json:"fix,omitempty"`
}

type report struct{ Findings []finding }

func (r *report) add(sev, check, msg, fix string) {
	r.Findings = append(r.Findings, finding{sev, check, msg, fix})
}

func (r *report) critical() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == sevCritical {
			n++
		}
	}
	return n
}

// runDoctor judges an installation's security posture from the same flags
// and VEIL_* variables `veil serve` uses. It changes nothing: it neither
// creates the data directory, migrates, nor generates keys.
func runDoctor(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "doctor", "veil doctor [serve flags] [--json]")
	cfg.BindStorage(fs)
	cfg.BindServer(fs)
	asJSON := fs.Bool("json", false, "print findings as JSON")
	if err := loadConfig(c, fs, &cfg, args, true); err != nil {
		return err
	}
	r := &report{}
	checkNetwork(&cfg, r)
	checkDataDir(&cfg, r)
	master := checkMasterKey(&cfg, r)
	checkDatabase(ctx, &cfg, master, r)
	checkBlobs(ctx, &cfg, r)

	if *asJSON {
		if err := json.NewEncoder(c.stdout).Encode(map[string]any{"findings": r.Findings, "critical": r.critical()}); err != nil {
			return err
		}
	} else {
		for _, f := range r.Findings {
			fmt.Fprintf(c.stdout, "%-9s %-10s %s\n", strings.ToUpper(f.Severity), f.Check, f.Message)
			if f.Fix != "" {
				fmt.Fprintf(c.stdout, "%-9s %-10s fix: %s\n", "", "", f.Fix)
			}
		}
	}
	if n := r.critical(); n > 0 {
		return fmt.Errorf("%d critical finding(s)", n)
	}
	return nil
}

func checkNetwork(cfg *config.Config, r *report) {
	host, _, _ := net.SplitHostPort(cfg.Addr)
	public := !isLoopback(host)
	switch {
	case public && !cfg.TLS():
		r.add(sevCritical, "tls", fmt.Sprintf("TLS is off and --addr %s is reachable from other machines: logins, keys and recordings would cross the network in clear", cfg.Addr),
			"set --tls-cert/--tls-key or --tls-acme-domain, or listen on 127.0.0.1 behind a TLS-terminating proxy")
	case !cfg.TLS():
		r.add(sevInfo, "tls", "TLS is off; fine on loopback or behind a TLS-terminating proxy", "")
	default:
		r.add(sevOK, "tls", "TLS is on (minimum TLS 1.2, HSTS)", "")
	}
	if public && cfg.MetricsAddr == "" {
		r.add(sevWarn, "metrics", "/metrics is served on the public listener", "use --metrics-addr 127.0.0.1:9090 (or another private address)")
	}
	if strings.HasPrefix(cfg.BaseURL, "http://") && public {
		r.add(sevWarn, "base-url", "--base-url is http:// on a public address", "use an https:// base URL")
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkDataDir(cfg *config.Config, r *report) {
	fi, err := os.Stat(cfg.Data)
	if err != nil {
		if cfg.Embedded() || cfg.Blobs == "" {
			r.add(sevWarn, "data-dir", fmt.Sprintf("data directory %s does not exist yet", cfg.Data), "run `veil serve` or `veil migrate` to create it")
		}
		return
	}
	if fi.Mode().Perm()&0o077 != 0 {
		r.add(sevWarn, "data-dir", fmt.Sprintf("data directory %s has mode %04o: other users can list or read it", cfg.Data, fi.Mode().Perm()), "chmod 700 "+cfg.Data)
	} else {
		r.add(sevOK, "data-dir", fmt.Sprintf("data directory %s is private (mode %04o)", cfg.Data, fi.Mode().Perm()), "")
	}
	entries, _ := os.ReadDir(cfg.Data)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o077 == 0 {
			continue
		}
		sev := sevWarn
		if e.Name() == "master.key" || e.Name() == demoCreds {
			sev = sevCritical
		}
		p := filepath.Join(cfg.Data, e.Name())
		r.add(sev, "data-dir", fmt.Sprintf("%s has mode %04o: readable by other users", p, info.Mode().Perm()), "chmod 600 "+p)
	}
	if _, err := os.Stat(filepath.Join(cfg.Data, demoCreds)); err == nil {
		r.add(demoSeverity(cfg), "demo", fmt.Sprintf("demo credentials file %s exists", filepath.Join(cfg.Data, demoCreds)), "delete it once you no longer need the demo")
	}
}

func demoSeverity(cfg *config.Config) string {
	host, _, _ := net.SplitHostPort(cfg.Addr)
	if isLoopback(host) {
		return sevWarn
	}
	return sevCritical
}

func checkMasterKey(cfg *config.Config, r *report) *keyring.Master {
	if cfg.MasterKey != "" {
		m, err := keyring.ParseMaster([]byte(cfg.MasterKey))
		if err != nil {
			r.add(sevCritical, "master-key", "VEIL_MASTER_KEY is invalid: "+err.Error(), "generate one with `veil key generate-master --out FILE`")
			return nil
		}
		r.add(sevOK, "master-key", fmt.Sprintf("master key %s comes from VEIL_MASTER_KEY, not from the data disk", m.ID()), "")
		return m
	}
	path, beside := cfg.MasterKeyPath()
	m, loose, err := keyring.LoadMasterFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && cfg.MasterKeyFile == "":
		r.add(sevInfo, "master-key", fmt.Sprintf("no master key at %s yet; `veil serve` generates one on first run", path), "")
		return nil
	case err != nil:
		r.add(sevCritical, "master-key", fmt.Sprintf("master key file %s: %v", path, err), "restore the key file, or point --master-key-file / VEIL_MASTER_KEY at it")
		return nil
	}
	if loose {
		r.add(sevCritical, "master-key", fmt.Sprintf("master key file %s is readable by other users", path), "chmod 600 "+path)
	}
	if beside {
		r.add(sevWarn, "master-key", fmt.Sprintf("master key %s is stored beside the data (%s): it protects nothing against theft of the disk or its backups", m.ID(), path),
			"move it to a secrets manager or another disk and pass --master-key-file or VEIL_MASTER_KEY")
	} else {
		r.add(sevOK, "master-key", fmt.Sprintf("master key %s is kept apart from the data (%s)", m.ID(), path), "")
	}
	return m
}

func checkDatabase(ctx context.Context, cfg *config.Config, m *keyring.Master, r *report) {
	if cfg.Embedded() {
		if _, err := os.Stat(cfg.DatabaseDSN()); err != nil {
			r.add(sevInfo, "database", fmt.Sprintf("no SQLite database at %s yet", cfg.DatabaseDSN()), "")
			return
		}
	}
	db, err := store.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		r.add(sevCritical, "database", err.Error(), "")
		return
	}
	defer db.Close()
	if err := db.Ping(ctx); err != nil {
		r.add(sevCritical, "database", "database unreachable: "+err.Error(), "")
		return
	}
	pending, err := db.Pending(ctx)
	switch {
	case err != nil:
		r.add(sevCritical, "database", "read schema version: "+err.Error(), "")
		return
	case len(pending) > 0:
		r.add(sevWarn, "database", fmt.Sprintf("%d migration(s) pending", len(pending)), "run `veil migrate` (serve also migrates on start)")
		return
	}
	r.add(sevOK, "database", db.Dialect()+" database reachable, schema up to date", "")
	if demo, err := db.ListDemoUsers(ctx); err == nil && len(demo) > 0 {
		r.add(demoSeverity(cfg), "demo", fmt.Sprintf("%d demo user(s) with well-known set-up (e.g. %s) can log in", len(demo), demo[0].Email), "remove the demo organisation and user before real use")
	}
	if m == nil {
		return
	}
	projects, err := db.ListProjects(ctx, "")
	if err != nil {
		return
	}
	bad := 0
	for _, p := range projects {
		if _, err := m.Unwrap(p.WrappedKey, provision.ProjectKeyAAD(p.OrgID, p.ID)); err != nil {
			bad++
		}
	}
	if bad > 0 {
		r.add(sevCritical, "master-key", fmt.Sprintf("master key %s cannot open %d of %d project key(s)", m.ID(), bad, len(projects)), "use the master key this data was created with")
	} else if len(projects) > 0 {
		r.add(sevOK, "master-key", fmt.Sprintf("master key opens all %d project key(s)", len(projects)), "")
	}
}

func checkBlobs(ctx context.Context, cfg *config.Config, r *report) {
	if cfg.Blobs == "" {
		if _, err := os.Stat(filepath.Join(cfg.Data, "blobs")); err != nil {
			return // nothing stored yet
		}
	}
	b, err := blob.Open(ctx, cfg.Blobs, cfg.Data)
	if err == nil {
		err = b.Ping(ctx)
	}
	if err != nil {
		r.add(sevCritical, "blobs", "blob store not usable: "+err.Error(), "")
		return
	}
	r.add(sevOK, "blobs", "blob store reachable", "")
}
