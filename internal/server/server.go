// Package server runs Veil's HTTP listeners: the main listener (health,
// metrics, and the routes other packages mount) and an optional separate
// metrics listener. It owns timeouts, TLS, security headers, request
// metrics, and graceful shutdown.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/acme/autocert"
)

// Check is a named readiness probe (store reachable, blob store usable…).
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// Options configure a Server.
type Options struct {
	Addr        string
	MetricsAddr string // "" serves /metrics on Addr
	// Pprof mounts the Go profiler (/debug/pprof/) on the metrics
	// listener. It is never mounted on the main listener: with Pprof set
	// and no MetricsAddr, it is not served at all.
	Pprof      bool
	TLSCert    string
	TLSKey     string
	ACMEDomain string
	ACMECache  string // directory for ACME account and certificates
	MaxBody    int64  // default request body cap; 0 = 1 MiB
	Checks     []Check
	Registry   *prometheus.Registry
	Logger     *slog.Logger
	// ShutdownTimeout bounds how long in-flight requests may take to finish.
	ShutdownTimeout time.Duration
}

// Server is Veil's HTTP server. Mount routes with Handle before Run.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	log     *slog.Logger
	metrics *httpMetrics

	ln, metricsLn net.Listener
	patterns      []string
}

// New returns a Server with /healthz, /readyz and /metrics mounted.
func New(opts Options) *Server {
	if opts.MaxBody == 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registry == nil {
		opts.Registry = NewRegistry()
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), log: opts.Logger}
	s.metrics = newHTTPMetrics(opts.Registry)
	s.Handle("GET /healthz", http.HandlerFunc(s.handleHealthz))
	s.Handle("GET /readyz", http.HandlerFunc(s.handleReadyz))
	if opts.MetricsAddr == "" {
		s.Handle("GET /metrics", MetricsHandler(opts.Registry))
	}
	return s
}

// Handle mounts a handler on the main listener (stdlib pattern syntax).
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.patterns = append(s.patterns, pattern)
}

// Patterns returns every pattern mounted on the main listener, so a test
// can check that each route is covered by an access-control test.
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// Handler returns the main listener's full handler chain (used by tests).
func (s *Server) Handler() http.Handler {
	var h http.Handler = s.mux
	h = limitBody(s.opts.MaxBody, h)
	h = recoverPanics(s.log, h)
	h = s.metrics.wrap(h)
	return securityHeaders(s.TLS(), h)
}

// TLS reports whether the main listener serves HTTPS.
func (s *Server) TLS() bool { return s.opts.TLSCert != "" || s.opts.ACMEDomain != "" }

// Listen binds the listeners so callers learn the real addresses (":0"
// in tests) before Serve.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another process using it? choose another with --addr)", s.opts.Addr, err)
	}
	s.ln = ln
	if s.opts.MetricsAddr != "" {
		mln, err := net.Listen("tcp", s.opts.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on metrics address %s: %w", s.opts.MetricsAddr, err)
		}
		s.metricsLn = mln
	}
	return nil
}

// Addr returns the bound main address (after Listen).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// MetricsAddr returns the bound metrics address, or "" when /metrics is on
// the main listener.
func (s *Server) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}

// Serve serves until ctx is cancelled, then stops accepting connections,
// lets in-flight requests finish (up to ShutdownTimeout) and returns nil.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	tlsConfig, err := s.tlsConfig()
	if err != nil {
		s.ln.Close()
		return err
	}
	main := s.httpServer(s.Handler())
	main.TLSConfig = tlsConfig
	servers := []*http.Server{main}
	errc := make(chan error, 2)
	go func() {
		if tlsConfig != nil {
			errc <- main.ServeTLS(s.ln, s.opts.TLSCert, s.opts.TLSKey)
		} else {
			errc <- main.Serve(s.ln)
		}
	}()
	if s.metricsLn != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", MetricsHandler(s.opts.Registry))
		if s.opts.Pprof {
			mountPprof(mux)
		}
		ms := s.httpServer(securityHeaders(false, mux))
		if s.opts.Pprof {
			ms.WriteTimeout = 0 // CPU profiles and traces stream for their whole duration
		}
		servers = append(servers, ms)
		go func() { errc <- ms.Serve(s.metricsLn) }()
	}
	select {
	case err := <-errc:
		for _, srv := range servers {
			srv.Close()
		}
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: no new connections, finishing in-flight requests", "timeout", s.opts.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// httpServer applies the timeouts that keep slow or idle clients from
// holding connections (slowloris).
func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) tlsConfig() (*tls.Config, error) {
	switch {
	case s.opts.ACMEDomain != "":
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			HostPolicy: autocert.HostWhitelist(s.opts.ACMEDomain),
			Cache:      autocert.DirCache(s.opts.ACMECache),
		}
		c := m.TLSConfig()
		c.MinVersion = tls.VersionTLS12
		return c, nil
	case s.opts.TLSCert != "":
		// Load once now so a bad pair fails at start with a clear error.
		if _, err := tls.LoadX509KeyPair(s.opts.TLSCert, s.opts.TLSKey); err != nil {
			return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", s.opts.TLSCert, s.opts.TLSKey, err)
		}
		return &tls.Config{MinVersion: tls.VersionTLS12}, nil
	}
	return nil, nil
}
