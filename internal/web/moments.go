package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/veil-privacy/veil"
)

// Limits of the analytics pass at the end of a replay stream.
const (
	momentsScan = 200_000 // messages read from the session's time window
	momentsMax  = 5_000   // custom events sent to the player
	momentsLine = 1 << 20 // longest message line (ingest allows 32 KB)
)

// streamMoments follows a replay stream with the session's analytics
// messages (the SDK tags each with context.veil.sessionId) as rrweb custom
// events the player shows but does not replay: "veil.track" (the event
// name, a timeline marker) and "veil.identify" (the user id, for the
// session panel). Nothing else of a message is sent. It is best effort:
// the replay has been sent already, so a failure only ends the stream.
func (h *Handler) streamMoments(w http.ResponseWriter, r *http.Request, s *veil.Session) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	pr, pw := io.Pipe()
	go func() {
		_, err := h.o.Replays.Events(ctx, s.ProjectID, s.FirstSeen.Add(-time.Minute), s.LastSeen.Add(time.Minute), pw)
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 0, 64<<10), momentsLine)
	scanned, sent := 0, 0
	for sc.Scan() && scanned < momentsScan && sent < momentsMax && ctx.Err() == nil {
		scanned++
		line, ok := momentOf(sc.Bytes(), s.ID)
		if !ok {
			continue
		}
		if _, err := w.Write(line); err != nil {
			return
		}
		sent++
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		h.log.WarnContext(r.Context(), "replay moments", "session_id", s.ID, "err", err)
	}
	http.NewResponseController(w).Flush()
}

// momentOf turns one stored message of session sid into a custom-event
// line, or reports false.
func momentOf(b []byte, sid string) ([]byte, bool) {
	var m struct {
		Type      string `json:"type"`
		Event     string `json:"event"`
		UserID    string `json:"userId"`
		Timestamp string `json:"timestamp"`
		Context   struct {
			Veil struct {
				SessionID string `json:"sessionId"`
			} `json:"veil"`
		} `json:"context"`
	}
	if json.Unmarshal(b, &m) != nil || m.Context.Veil.SessionID != sid {
		return nil, false
	}
	ts, err := time.Parse(time.RFC3339Nano, m.Timestamp)
	if err != nil {
		return nil, false
	}
	var tag string
	var payload map[string]string
	switch {
	case m.Type == "track" && m.Event != "":
		tag, payload = "veil.track", map[string]string{"event": clip(m.Event, 200)}
	case m.Type == "identify" && m.UserID != "":
		tag, payload = "veil.identify", map[string]string{"userId": clip(m.UserID, 200)}
	default:
		return nil, false
	}
	out, err := json.Marshal(map[string]any{"type": 5, "timestamp": ts.UnixMilli(), "data": map[string]any{"tag": tag, "payload": payload}})
	if err != nil {
		return nil, false
	}
	return append(out, '\n'), true
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
