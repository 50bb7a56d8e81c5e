package server

import (
	"net/http"
	"net/http/pprof"
)

// mountPprof adds the Go profiler's handlers to mux (the metrics listener's,
// never the public one). CPU profiles are how ingest throughput is tuned:
// curl 'http://METRICS_ADDR/debug/pprof/profile?seconds=20' > cpu.pprof.
func mountPprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
