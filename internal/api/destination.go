package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/destination"
)

// Destination routes: a project's S3/SFTP destinations (internal/destination;
// docs/data-lifecycle.md). Reading needs a member; creating, editing,
// removing and testing need destinations.manage (admins). Secrets are
// accepted on create and edit and never returned.

// DestinationService manages destinations (*destination.Service).
type DestinationService interface {
	Create(ctx context.Context, projectID string, in destination.Input) (*destination.View, error)
	List(ctx context.Context, projectID string) ([]*destination.View, error)
	Find(ctx context.Context, projectID, id string) (*destination.View, error)
	Update(ctx context.Context, projectID, id string, u destination.Update) (*destination.Updated, error)
	Remove(ctx context.Context, projectID, id string) error
	Test(ctx context.Context, projectID, id string) (*destination.TestResult, error)
	SetPaused(ctx context.Context, projectID, id string, paused bool) (*destination.View, error)
}

// DestinationTest is the answer of POST …/destinations/{id}/test: the
// probe's outcome (the request itself succeeds either way).
type DestinationTest struct {
	OK bool `json:"ok"`
	*destination.TestResult
	Error string `json:"error,omitempty"`
}

func (h *Handler) destinations() (DestinationService, error) {
	if h.o.Destinations == nil {
		return nil, veil.Errorf(veil.EUNAVAILABLE, "Destinations are not available on this server.")
	}
	return h.o.Destinations, nil
}

// resolveDestination checks the {destination} path object belongs to the
// project (called by resolve).
func (h *Handler) resolveDestination(r *http.Request, projectID string) error {
	id := r.PathValue("destination")
	if id == "" {
		return nil
	}
	svc, err := h.destinations()
	if err != nil {
		return veil.Errorf(veil.ENOTFOUND, "Destination not found.")
	}
	_, err = svc.Find(r.Context(), projectID, id)
	return err
}

func (h *Handler) recordDestination(r *http.Request, action, id string, details ...string) error {
	p, err := h.project(r)
	if err != nil {
		return err
	}
	d := map[string]string{"project": p.ID}
	for i := 0; i+1 < len(details); i += 2 {
		d[details[i]] = details[i+1]
	}
	return record(r, audit.Entry{OrgID: p.OrgID, Action: action, ObjectKind: "destination", ObjectID: id, Details: d})
}

// listDestinations handles "GET …/destinations" (members).
func (h *Handler) listDestinations(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.destinations()
	if err != nil {
		return err
	}
	vs, err := svc.List(r.Context(), r.PathValue("project"))
	if err != nil {
		return err
	}
	l, err := pageOf(r, vs, func(v *destination.View) string { return v.ID })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// createDestination handles "POST …/destinations" (admins).
func (h *Handler) createDestination(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.destinations()
	if err != nil {
		return err
	}
	var in destination.Input
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := svc.Create(r.Context(), r.PathValue("project"), in)
	if err != nil {
		return err
	}
	if err := h.recordDestination(r, "destination.create", v.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// getDestination handles "GET …/destinations/{destination}" (members).
func (h *Handler) getDestination(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.destinations()
	if err != nil {
		return err
	}
	v, err := svc.Find(r.Context(), r.PathValue("project"), r.PathValue("destination"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// updateDestination handles "PATCH …/destinations/{destination}" (admins):
// change settings and replace secrets in place (destination.Update); with
// "verify": true nothing is saved unless the probe passes (400 with its
// error). The answer is the destination with the names of what changed.
func (h *Handler) updateDestination(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.destinations()
	if err != nil {
		return err
	}
	var u destination.Update
	if err := decode(r, &u); err != nil {
		return err
	}
	id := r.PathValue("destination")
	out, err := svc.Update(r.Context(), r.PathValue("project"), id, u)
	if err != nil {
		return err
	}
	if len(out.Changed) > 0 {
		// Field names only, never values: secrets appear as
		// "secrets.password".
		if err := h.recordDestination(r, "destination.update", id, "changed", strings.Join(out.Changed, ","),
			"verified", strconv.FormatBool(out.Test != nil)); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteDestination handles "DELETE …/destinations/{destination}" (admins).
func (h *Handler) deleteDestination(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.destinations()
	if err != nil {
		return err
	}
	id := r.PathValue("destination")
	if err := svc.Remove(r.Context(), r.PathValue("project"), id); err != nil {
		return err
	}
	if err := h.recordDestination(r, "destination.delete", id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// testDestination handles "POST …/destinations/{destination}/test"
// (admins): write, read back and delete a probe object.
func (h *Handler) testDestination(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.destinations()
	if err != nil {
		return err
	}
	id := r.PathValue("destination")
	res, err := svc.Test(r.Context(), r.PathValue("project"), id)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		return err
	}
	out := DestinationTest{OK: err == nil, TestResult: res}
	if err != nil {
		// The message names the host, the key fingerprints or the S3
		// error; never credentials or recorded data.
		out.Error = err.Error()
	}
	if err := h.recordDestination(r, "destination.test", id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pauseDestination handles "POST …/destinations/{destination}/pause"
// (admins).
func (h *Handler) pauseDestination(w http.ResponseWriter, r *http.Request) error {
	return h.setDestinationPaused(w, r, true)
}

// resumeDestination handles "POST …/destinations/{destination}/resume"
// (admins).
func (h *Handler) resumeDestination(w http.ResponseWriter, r *http.Request) error {
	return h.setDestinationPaused(w, r, false)
}

func (h *Handler) setDestinationPaused(w http.ResponseWriter, r *http.Request, paused bool) error {
	svc, err := h.destinations()
	if err != nil {
		return err
	}
	v, err := svc.SetPaused(r.Context(), r.PathValue("project"), r.PathValue("destination"), paused)
	if err != nil {
		return err
	}
	action := "destination.resume"
	if paused {
		action = "destination.pause"
	}
	if err := h.recordDestination(r, action, v.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
