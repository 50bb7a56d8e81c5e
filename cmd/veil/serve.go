package main

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"path/filepath"

	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/server"
	"github.com/veil-privacy/veil/sdk"
)

// testHookServing, when set by a test, receives the fully mounted server
// just before it serves (net/http uses the same pattern).
var testHookServing func(*server.Server)

func runServe(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "serve", "veil serve [--addr HOST:PORT] [--data DIR | --database postgres://…] [--blobs URL] [--demo] [flags]")
	cfg.BindStorage(fs)
	cfg.BindServer(fs)
	fs.BoolVar(&cfg.Demo, "demo", false, "create a demo organisation, project, user and keys if missing, and print how to use them")
	idle := bindSessionIdle(fs) // session.ended webhooks
	bk := bindBackupFlags(fs)
	if err := loadConfig(c, fs, &cfg, args, true); err != nil {
		return err
	}
	if err := validateSessionIdle(*idle); err != nil {
		return err
	}
	if err := bk.validate(); err != nil {
		return err
	}
	log := cfg.Logger(c.stderr)
	st, err := openStorage(ctx, &cfg, log, openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()

	reg := server.NewRegistry()
	srv := server.New(server.Options{
		Registry:    reg,
		Addr:        cfg.Addr,
		MetricsAddr: cfg.MetricsAddr,
		Pprof:       cfg.Pprof,
		TLSCert:     cfg.TLSCert,
		TLSKey:      cfg.TLSKey,
		ACMEDomain:  cfg.TLSACMEDomain,
		ACMECache:   filepath.Join(cfg.Data, "acme"),
		Logger:      log,
		Checks: []server.Check{
			{Name: "store", Func: st.db.Ping},
			{Name: "blobs", Func: st.blobs.Ping},
		},
	})
	if err := srv.Listen(); err != nil {
		return err
	}
	baseURL := cfg.BaseURL
	if baseURL == "" {
		scheme := "http"
		if srv.TLS() {
			scheme = "https"
		}
		baseURL = scheme + "://" + srv.Addr()
	}
	var demo *demoInfo
	if cfg.Demo {
		if demo, err = setupDemo(ctx, st, baseURL); err != nil {
			return fmt.Errorf("demo set-up: %w", err)
		}
		printDemo(c.stdout, demo, baseURL)
	}
	srv.Handle("GET /{$}", homeHandler(demo, baseURL))
	if err := mountAccounts(ctx, srv, st, baseURL); err != nil {
		return err
	}
	startWebhooks(ctx, st, reg, log, *idle)
	srv.Handle("GET /sdk/", sdk.Handler()) // browser SDK, install page and self-recording demo
	ing, err := startIngest(ctx, st, srv, reg, log)
	if err != nil {
		return err
	}
	if err := startLifecycle(ctx, st, reg, log, bk); err != nil { // retention, compaction, backups (leased)
		return err
	}
	startDestinations(ctx, st, reg, log, *idle) // pushes to customer storage, do_not_store (leased per destination)
	if testHookServing != nil {
		testHookServing(srv)
	}
	log.Info("veil serving", "addr", srv.Addr(), "base_url", baseURL, "tls", srv.TLS(),
		"database", st.db.Dialect(), "metrics_addr", srv.MetricsAddr(), "master_key_id", st.master.ID(), "version", versionString())
	serveErr := srv.Serve(ctx)
	// In-flight requests are done: pack what the log holds, then close it.
	if err := ing.stop(); err != nil {
		log.Error("stopping ingest", "err", err)
	}
	if serveErr != nil {
		return serveErr
	}
	log.Info("veil stopped")
	return nil
}

var homeTmpl = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Veil</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/veil.css"></head>
<body>
<header class="top"><a class="brand" href="/">Veil</a></header>
<main>
<h1>Veil is running</h1>
<p>Privacy-first session replay and product analytics. Version {{.Version}}.</p>
<p><a href="/login">Log in to the dashboard</a> · <a href="/sdk/">Install the browser SDK</a></p>
{{with .Demo}}<h2>Demo</h2>
<ol>
<li><a href="/sdk/demo?key={{.BrowserKey}}">Open the demo page</a>: it records itself with the demo browser key (everything masked by default).</li>
<li><a href="/login">Log in</a> as <code>{{.Email}}</code> (the password was printed at start-up and is kept in <code>{{.CredentialsFile}}</code>).</li>
</ol>
<p>Organisation <code>{{.OrgID}}</code>, project <code>{{.ProjectID}}</code>, browser key <code>{{.BrowserKey}}</code> (allowed origin {{.Origin}}).</p>{{end}}
<h2>Endpoints</h2>
<ul><li><a href="/healthz">/healthz</a> — process up</li>
<li><a href="/readyz">/readyz</a> — storage reachable</li>
<li><a href="/metrics">/metrics</a> — Prometheus metrics (unless --metrics-addr moves them)</li>
<li><code>POST /v1/track</code>, <code>/v1/batch</code>, … — Segment-compatible tracking API; <code>POST /v1/replay</code> — replay segments</li>
<li><a href="/api/v1/openapi.yaml">/api/v1/</a> — management API (token auth)</li></ul>
</main>
</body></html>`))

func homeHandler(demo *demoInfo, baseURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		homeTmpl.Execute(w, map[string]any{"Version": versionString(), "Demo": demo, "BaseURL": baseURL})
	})
}
