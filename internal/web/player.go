package web

import (
	"bytes"
	"net/http"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
)

// playerCSP is the policy of the session page, which hosts the replay.
// The Replayer rebuilds the recorded page in an about:blank iframe
// (sandbox="allow-same-origin", so no recorded script runs), and that
// document inherits this policy: nothing may be loaded from anywhere but
// data:/blob: images and fonts, and only the dashboard's own script and
// JSON. Inline style is needed because rrweb rebuilds <style> elements
// and style attributes; with images and fonts restricted, CSS cannot
// reach the network.
const playerCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src data: blob:; " +
	"font-src data:; media-src 'none'; connect-src 'self'; frame-src 'self'; child-src 'self'; worker-src 'none'; " +
	"object-src 'none'; manifest-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// sessionPage handles "GET /orgs/{org}/projects/{project}/sessions/{session}":
// the session's facts and the player, which fetches replay.json.
func (h *Handler) sessionPage(w http.ResponseWriter, r *http.Request) error {
	p, ds, err := h.project(r)
	if err != nil {
		return err
	}
	s, err := ds.FindSession(r.Context(), p.ID, r.PathValue("session"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Security-Policy", playerCSP)
	return h.render(w, r, http.StatusOK, "session", page{Title: "Session " + s.ID, Data: map[string]any{
		"Org": r.PathValue("org"), "Project": p, "Session": s, "Duration": fmtDur(s.LastSeen.Sub(s.FirstSeen)),
	}})
}

// sessionReplay handles
// "GET /orgs/{org}/projects/{project}/sessions/{session}/replay.json": the
// session's rrweb events, decrypted and sanitized for playback. The view
// is audited before any byte is sent.
func (h *Handler) sessionReplay(w http.ResponseWriter, r *http.Request) error {
	p, ds, err := h.project(r)
	if err != nil {
		return err
	}
	s, err := ds.FindSession(r.Context(), p.ID, r.PathValue("session"))
	if err != nil {
		return err
	}
	if h.o.Replays == nil {
		return veil.Errorf(veil.EUNAVAILABLE, "Replays are not available on this server.")
	}
	if err := audit.Record(r.Context(), audit.Entry{OrgID: p.OrgID, Action: audit.ActionReplayView, ObjectKind: "session", ObjectID: s.ID,
		Details: map[string]string{"project": p.ID}}); err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := h.o.Replays.Replay(r.Context(), p.ID, s.ID, &buf); err != nil {
		return err
	}
	out, err := sanitizeReplay(buf.Bytes())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
	w.Write(out)
	return nil
}
