package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
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
// the session's facts and the player, which fetches replay.ndjson.
func (h *Handler) sessionPage(w http.ResponseWriter, r *http.Request) error {
	p, ds, err := h.project(r)
	if err != nil {
		return err
	}
	s, err := ds.FindSession(r.Context(), p.ID, r.PathValue("session"))
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		// Pushed and deleted under do_not_store: say where it went.
		if pushes, serr := h.sessionStub(r, p.ID, r.PathValue("session")); serr != nil {
			return serr
		} else if len(pushes) > 0 {
			return h.render(w, r, http.StatusOK, "session_pushed", page{Title: "Session " + r.PathValue("session"), Data: map[string]any{
				"Org": r.PathValue("org"), "Project": p, "SessionID": r.PathValue("session"), "Pushes": pushes}})
		}
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Security-Policy", playerCSP)
	return h.render(w, r, http.StatusOK, "session", page{Title: "Session " + s.ID, InlineIcon: true, Data: map[string]any{
		"Org": r.PathValue("org"), "Project": p, "Session": s, "Duration": fmtDur(s.LastSeen.Sub(s.FirstSeen)),
		"DurationMs": s.LastSeen.Sub(s.FirstSeen).Milliseconds(),
		"CanDelete":  h.o.Lifecycle != nil && Membership(r.Context()) != nil && auth.Can(Membership(r.Context()).Role, auth.PermProjectManage),
	}})
}

// sessionReplay handles
// "GET /orgs/{org}/projects/{project}/sessions/{session}/replay.ndjson": the
// session's rrweb events, decrypted and sanitized for playback, as NDJSON. The view
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
	if err := h.streamReplay(w, r, p.ID, s.ID); err != nil {
		return err
	}
	h.streamMoments(w, r, s)
	return nil
}

// streamReplay sends the session's events as NDJSON, one sanitized event
// a line, flushing as segments are decrypted: the player starts on the
// first full snapshot instead of waiting for the whole session.
func (h *Handler) streamReplay(w http.ResponseWriter, r *http.Request, projectID, sessionID string) error {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	pr, pw := io.Pipe()
	go func() {
		_, err := h.o.Replays.Replay(ctx, projectID, sessionID, pw)
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	dec := json.NewDecoder(pr)
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // the opening [
		return fmt.Errorf("read replay %s: %w", sessionID, err)
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
	rc := http.NewResponseController(w)
	n := 0
	for dec.More() && ctx.Err() == nil {
		var e map[string]any
		if err := dec.Decode(&e); err != nil {
			// Headers are gone: log, and end the stream short.
			h.log.ErrorContext(r.Context(), "replay stream", "session_id", sessionID, "err", err)
			return nil
		}
		if !sanitizeEvent(e) {
			continue
		}
		b, err := json.Marshal(e)
		if err != nil {
			continue
		}
		w.Write(append(b, '\n'))
		if n++; n%200 == 0 || n == 2 {
			rc.Flush()
		}
	}
	return nil
}
