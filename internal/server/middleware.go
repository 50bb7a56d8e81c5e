package server

import (
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/veil-privacy/veil"
)

// securityHeaders sets the headers every response carries. Pages that need
// a looser or stricter Content-Security-Policy (the replay player) set their
// own before writing.
func securityHeaders(tls bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if tls {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies; handlers that accept larger uploads (ingest)
// apply their own, tighter-scoped limits on top.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			Error(w, r, nil, veil.Errorf(veil.ETOOLARGE, "Request body is larger than %d bytes.", max))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a handler panic into a 500. The log line carries the
// stack but never the request body or headers, which may hold recorded
// content or keys.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("handler panic", "method", r.Method, "route", r.Pattern, "stack", string(debug.Stack()))
				Error(w, r, nil, veil.Errorf(veil.EINTERNAL, "Internal error."))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
