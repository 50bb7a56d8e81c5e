package server

import (
	"context"
	"net/http"
	"time"
)

// handleHealthz handles "GET /healthz": the process is up and serving.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz handles "GET /readyz": every storage check passes. Failure
// details go to the log; the response names only the failing check.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	checks := map[string]string{}
	status := http.StatusOK
	for _, c := range s.opts.Checks {
		if err := c.Func(ctx); err != nil {
			s.log.Warn("readiness check failed", "check", c.Name, "err", err)
			checks[c.Name] = "unavailable"
			status = http.StatusServiceUnavailable
			continue
		}
		checks[c.Name] = "ok"
	}
	state := "ok"
	if status != http.StatusOK {
		state = "unavailable"
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, status, map[string]any{"status": state, "checks": checks})
}
