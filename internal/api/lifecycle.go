package api

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/store"
)

// Lifecycle deletes, erases, exports and keeps data on request
// (*lifecycle.Service). Every method audit-logs with the actor of ctx.
type Lifecycle interface {
	FindSession(ctx context.Context, projectID, sessionID string) (*veil.Session, error)
	DeleteSession(ctx context.Context, projectID, sessionID string) (*lifecycle.DeleteResult, error)
	Erase(ctx context.Context, projectID, userID string) (*lifecycle.Certificate, error)
	ExportUser(ctx context.Context, projectID, userID string, w io.Writer) (*lifecycle.ExportManifest, error)
	RetentionSetting(ctx context.Context, orgID, projectID string) (*store.Retention, error)
	ProposeRetention(ctx context.Context, r *store.Retention) (*lifecycle.RetentionImpact, error)
	SetRetention(ctx context.Context, r *store.Retention) error
}

func (h *Handler) lifecycle() (Lifecycle, error) {
	if h.o.Lifecycle == nil {
		return nil, veil.Errorf(veil.EUNAVAILABLE, "Data lifecycle operations are not available on this server.")
	}
	return h.o.Lifecycle, nil
}

// resolveSession checks that the {session} of the path is in the project.
func (h *Handler) resolveSession(ctx context.Context, r *http.Request, projectID string) error {
	id := r.PathValue("session")
	if id == "" {
		return nil
	}
	lc, err := h.lifecycle()
	if err != nil {
		return veil.Errorf(veil.ENOTFOUND, "Session not found.")
	}
	_, err = lc.FindSession(ctx, projectID, id)
	return err
}

// deleteSession handles "DELETE /api/v1/orgs/{org}/projects/{project}/sessions/{session}":
// crypto-shreds the recording (its key first) and answers what was
// destroyed.
func (h *Handler) deleteSession(w http.ResponseWriter, r *http.Request) error {
	lc, err := h.lifecycle()
	if err != nil {
		return err
	}
	res, err := lc.DeleteSession(r.Context(), r.PathValue("project"), r.PathValue("session"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// subjectRequest is the body of the erasure and export routes.
type subjectRequest struct {
	UserID string `json:"user_id"`
}

func readSubject(r *http.Request) (string, error) {
	var in subjectRequest
	if err := decode(r, &in); err != nil {
		return "", err
	}
	switch {
	case in.UserID == "":
		return "", veil.Errorf(veil.EINVALID, "user_id is required (a user id, anonymous id or e-mail).")
	case len(in.UserID) > 512:
		return "", veil.Errorf(veil.EINVALID, "user_id is at most 512 bytes.")
	}
	return in.UserID, nil
}

// eraseUser handles "POST /api/v1/orgs/{org}/projects/{project}/erasures":
// a GDPR erasure of one user, answered with its certificate.
func (h *Handler) eraseUser(w http.ResponseWriter, r *http.Request) error {
	lc, err := h.lifecycle()
	if err != nil {
		return err
	}
	user, err := readSubject(r)
	if err != nil {
		return err
	}
	cert, err := lc.Erase(r.Context(), r.PathValue("project"), user)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cert)
	return nil
}

// exportUser handles "POST /api/v1/orgs/{org}/projects/{project}/exports":
// the zip archive of everything stored about one user, as the response
// body. It is built in a private temporary file first, so an error is
// still answered as JSON.
func (h *Handler) exportUser(w http.ResponseWriter, r *http.Request) error {
	lc, err := h.lifecycle()
	if err != nil {
		return err
	}
	user, err := readSubject(r)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "veil-export-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	m, err := lc.ExportUser(r.Context(), r.PathValue("project"), user, f)
	if err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Disposition", `attachment; filename="veil-user-export-`+m.ProjectID+`.zip"`)
	w.Header().Set("X-Veil-Subject", m.Subject)
	w.WriteHeader(http.StatusOK)
	_, err = io.Copy(w, f)
	if err != nil {
		h.log.WarnContext(r.Context(), "user export: response cut short", "err", err)
	}
	return nil
}

// retentionBody is the body of PUT …/retention: days, 0 keeps forever,
// null inherits (the org default, then forever).
type retentionBody struct {
	ReplayDays *int `json:"replay_days"`
	EventDays  *int `json:"event_days"`
}

// getRetention handles "GET …/orgs/{org}/retention" and "GET
// …/projects/{project}/retention": the stored setting and what the
// policy in force would delete now.
func (h *Handler) getRetention(w http.ResponseWriter, r *http.Request) error {
	lc, err := h.lifecycle()
	if err != nil {
		return err
	}
	cur, err := lc.RetentionSetting(r.Context(), r.PathValue("org"), r.PathValue("project"))
	if err != nil {
		return err
	}
	imp, err := lc.ProposeRetention(r.Context(), cur)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, imp)
	return nil
}

// putRetention handles "PUT …/retention": with ?preview=true it only
// counts what the setting would delete now; otherwise it stores it
// (audit-logged) and answers the same counts, as applied.
func (h *Handler) putRetention(w http.ResponseWriter, r *http.Request) error {
	lc, err := h.lifecycle()
	if err != nil {
		return err
	}
	var in retentionBody
	if err := decode(r, &in); err != nil {
		return err
	}
	preview := false
	if v := r.URL.Query().Get("preview"); v != "" {
		if preview, err = strconv.ParseBool(v); err != nil {
			return veil.Errorf(veil.EINVALID, "preview must be true or false.")
		}
	}
	set := &store.Retention{OrgID: r.PathValue("org"), ProjectID: r.PathValue("project"), ReplayDays: in.ReplayDays, EventDays: in.EventDays}
	imp, err := lc.ProposeRetention(r.Context(), set)
	if err != nil {
		return err
	}
	if !preview {
		if err := lc.SetRetention(r.Context(), set); err != nil {
			return err
		}
		imp.Applied = true
	}
	writeJSON(w, http.StatusOK, imp)
	return nil
}
