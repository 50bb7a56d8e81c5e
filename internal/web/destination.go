package web

import (
	"context"
	"net/http"

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
