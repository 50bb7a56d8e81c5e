package ingest

import (
	"net/http"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/server"
	"github.com/veil-privacy/veil/internal/writekey"
)

// cors adds CORS headers to an answer for an authenticated caller whose
// Origin is allowed by its key. Nothing is added otherwise, so a browser
// page on another origin cannot even read our error messages.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request, p *principal) {
	origin := r.Header.Get("Origin")
	if p == nil || origin == "" || !writekey.MatchOrigin(origin, p.key.Origins) {
		return
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", origin)
	hd.Add("Vary", "Origin")
}

// handlePreflight answers a CORS preflight only for an origin allowed by
// the active browser key named in the query (?key=veil_wk_…): preflights
// carry no Authorization header, so the key has to be in the URL. Browser
// code that sends text/plain without custom headers (as Segment's
// analytics.js does) needs no preflight at all.
func (h *Handler) handlePreflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	raw := keySource(r, "")
	deny := func() {
		h.metrics.rejected.WithLabelValues(veil.EFORBIDDEN).Inc()
		server.Error(w, r, nil, veil.Errorf(veil.EFORBIDDEN, "Origin is not allowed."))
	}
	if origin == "" || raw == "" {
		deny()
		return
	}
	kind, prefix, err := writekey.Parse(raw)
	if err != nil || kind != veil.KeyBrowser {
		deny()
		return
	}
	k, err := h.store.FindKeyByPrefix(r.Context(), prefix)
	if err != nil || k.RevokedAsOf(h.now()) || !writekey.Verify(raw, k.Hash) || !writekey.MatchOrigin(origin, k.Origins) {
		deny()
		return
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", origin)
	hd.Set("Access-Control-Allow-Methods", "POST")
	hd.Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding, Authorization")
	hd.Set("Access-Control-Max-Age", "600")
	hd.Add("Vary", "Origin")
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, v any) { server.WriteJSON(w, status, v) }

// writeError writes err as the JSON error body, with Retry-After for 429
// and 503.
func writeError(w http.ResponseWriter, err error) {
	if s, ok := retryAfterSeconds(err); ok {
		w.Header().Set("Retry-After", s)
	}
	var body server.ErrorBody
	body.Error.Code = veil.ErrorCode(err)
	body.Error.Message = veil.ErrorMessage(err)
	server.WriteJSON(w, server.StatusFor(body.Error.Code), body)
}
