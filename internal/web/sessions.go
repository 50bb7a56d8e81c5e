package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/store"
)

// Replays reads what ingest stored, decrypted (ingest.Reader).
type Replays interface {
	// Replay writes a session's rrweb events as one JSON array.
	Replay(ctx context.Context, projectID, sessionID string, w io.Writer) (int, error)
	// Events writes the project's messages of batches overlapping
	// [since, until) as JSON lines.
	Events(ctx context.Context, projectID string, since, until time.Time, w io.Writer) (int, error)
}

// dataStore is what the session and event pages read. The dashboard's
// Store (*store.DB) has it; a Store without it serves those pages as 404.
type dataStore interface {
	FindProjectByID(ctx context.Context, id string) (*veil.Project, error)
	FindSession(ctx context.Context, projectID, id string) (*veil.Session, error)
	FindSessionPage(ctx context.Context, q store.SessionQuery) (*store.SessionPage, error)
	CountSessions(ctx context.Context, q store.SessionQuery, limit int) (int, bool, error)
}

// countLimit bounds the list's match count: past it the page says "10,000+".
const countLimit = 10_000

var errNoProject = veil.Errorf(veil.ENOTFOUND, "Project not found.")

func (h *Handler) data() (dataStore, error) {
	ds, ok := h.o.Store.(dataStore)
	if !ok {
		return nil, errNoProject
	}
	return ds, nil
}

// project returns the {project} of the request, which must belong to the
// {org} (another organisation's project is not found).
func (h *Handler) project(r *http.Request) (*veil.Project, dataStore, error) {
	ds, err := h.data()
	if err != nil {
		return nil, nil, err
	}
	p, err := ds.FindProjectByID(r.Context(), r.PathValue("project"))
	if veil.ErrorCode(err) == veil.ENOTFOUND || err == nil && p.OrgID != r.PathValue("org") {
		return nil, nil, errNoProject
	} else if err != nil {
		return nil, nil, err
	}
	return p, ds, nil
}

// sessionFilter is the list page's filter form, as parsed.
type sessionFilter struct {
	From, To, User, Path, Event, MinDur, MaxDur, Sort string
	Errors                                            bool
}

func parseDay(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, veil.Errorf(veil.EINVALID, "Dates are YYYY-MM-DD.")
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

func parseDur(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, veil.Errorf(veil.EINVALID, "Durations are seconds or like 1m30s.")
	}
	return d, nil
}

// sessionList handles "GET /orgs/{org}/projects/{project}/sessions": one
// page of sessions, filtered and sorted by the query string.
func (h *Handler) sessionList(w http.ResponseWriter, r *http.Request) error {
	p, ds, err := h.project(r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	f := sessionFilter{From: v.Get("from"), To: v.Get("to"), User: v.Get("user"), Path: v.Get("path"), Event: v.Get("event"),
		MinDur: v.Get("min"), MaxDur: v.Get("max"), Sort: v.Get("sort"), Errors: v.Get("errors") == "1"}
	q := store.SessionQuery{ProjectID: p.ID, URLPath: f.Path, HasErrors: f.Errors, Sort: f.Sort, After: v.Get("after"), Limit: 50}
	if q.Since, err = parseDay(f.From, false); err != nil {
		return err
	}
	if q.Until, err = parseDay(f.To, true); err != nil {
		return err
	}
	if q.MinDur, err = parseDur(f.MinDur); err != nil {
		return err
	}
	if q.MaxDur, err = parseDur(f.MaxDur); err != nil {
		return err
	}
	if f.User != "" || f.Event != "" {
		if h.o.Master == nil {
			return veil.Errorf(veil.EINVALID, "Searching by user id or custom event is not available on this server.")
		}
		dek, err := h.o.Master.Unwrap(p.WrappedKey, provision.ProjectKeyAAD(p.OrgID, p.ID))
		if err != nil {
			return err
		}
		if f.User != "" {
			q.UserIndex = dek.BlindIndex("user_id", f.User)
		}
		if f.Event != "" {
			q.TagIndex = dek.BlindIndex(keyring.IndexCustomEvent, f.Event)
		}
	}
	pg, err := ds.FindSessionPage(r.Context(), q)
	if err != nil {
		return err
	}
	count, capped, err := ds.CountSessions(r.Context(), q, countLimit)
	if err != nil {
		return err
	}
	next := ""
	if pg.Next != "" {
		nv := url.Values{}
		for k, vs := range v {
			nv[k] = vs
		}
		nv.Set("after", pg.Next)
		next = "?" + nv.Encode()
	}
	type row struct {
		*veil.Session
		Duration string
	}
	rows := make([]row, len(pg.Sessions))
	for i, s := range pg.Sessions {
		rows[i] = row{s, fmtDur(s.LastSeen.Sub(s.FirstSeen))}
	}
	return h.render(w, r, http.StatusOK, "sessions", page{Title: "Sessions · " + p.Name, Data: map[string]any{
		"Org": r.PathValue("org"), "Project": p, "Filter": f, "Sessions": rows, "Next": next, "Paged": q.After != "",
		"Count": count, "Capped": capped,
	}})
}

func fmtDur(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return strconv.Itoa(int(d.Seconds())) + "s"
	}
	return strings.TrimSuffix(d.String(), "0s")
}

// projectList handles "GET /orgs/{org}/projects": the organisation's
// projects with links to their pages.
func (h *Handler) projectList(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.o.Store.ListProjects(r.Context(), r.PathValue("org"))
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "projects", page{Title: "Projects", Data: map[string]any{"Org": r.PathValue("org"), "Projects": ps}})
}
