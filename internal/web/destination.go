package web

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/veil-privacy/veil/internal/store"
)

// pushStubs is what the session page needs to show where a recording
// went when Veil deleted its own copy under do_not_store
// (internal/destination). *store.DB has it.
type pushStubs interface {
	ListSessionPushes(ctx context.Context, projectID, sessionID string) ([]*store.DestinationPush, error)
}

// sessionStub returns the done pushes of a session that is no longer
// stored here, or nil when there are none (the page is then a 404).
func (h *Handler) sessionStub(r *http.Request, projectID, sessionID string) ([]*store.DestinationPush, error) {
	ps, ok := h.o.Store.(pushStubs)
	if !ok {
		return nil, nil
	}
	all, err := ps.ListSessionPushes(r.Context(), projectID, sessionID)
	if err != nil {
		return nil, err
	}
	var done []*store.DestinationPush
	for _, p := range all {
		if p.State == store.PushDone {
			done = append(done, p)
		}
	}
	return done, nil
}

// destinationStore lists a project's destinations for the settings page.
type destinationStore interface {
	ListDestinations(ctx context.Context, projectID string) ([]*store.Destination, error)
	DestinationPushStats(ctx context.Context, id string) (*store.PushStats, error)
}

//go:embed templates/destinations/*.html
var destinationFS embed.FS

var destinationTmpl = template.Must(template.New("").ParseFS(destinationFS, "templates/destinations/*.html"))

// destinationsSection renders the project settings page's "Destinations"
// section (read-only): each destination's mode, push counts and alert.
// Empty when the store has no destinations.
func (h *Handler) destinationsSection(r *http.Request, projectID string) (template.HTML, error) {
	ds, ok := h.o.Store.(destinationStore)
	if !ok {
		return "", nil
	}
	list, err := ds.ListDestinations(r.Context(), projectID)
	if err != nil {
		return "", err
	}
	type item struct {
		D     *store.Destination
		Stats *store.PushStats
	}
	data := struct {
		Items  []item
		Alerts int
		Base   string
	}{Base: "/orgs/" + r.PathValue("org") + "/projects/" + projectID}
	for _, d := range list {
		st, err := ds.DestinationPushStats(r.Context(), d.ID)
		if err != nil {
			return "", err
		}
		data.Items = append(data.Items, item{d, st})
		if d.Alert != "" {
			data.Alerts++
		}
	}
	var b strings.Builder
	if err := destinationTmpl.ExecuteTemplate(&b, "destinations", data); err != nil {
		return "", fmt.Errorf("render destinations: %w", err)
	}
	return template.HTML(b.String()), nil
}
