package web

import (
	"net/http"
	"sort"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/scrub"
)

// StorageInfo says where an instance keeps its data, without credentials.
type StorageInfo struct {
	Database string // e.g. "SQLite, /var/lib/veil/veil.db"
	Blobs    string // e.g. "S3-compatible, bucket veil/prod"
}

// maxAuditScan bounds the audit entries the trust page reads.
const maxAuditScan = 100_000

// viewer is one person's replay views of the project.
type viewer struct {
	ActorID  string
	Email    string
	Views    int
	Sessions int
	Last     time.Time
}

// trustPage handles "GET /orgs/{org}/projects/{project}/trust": what is
// collected, how it is scrubbed and encrypted, where it is stored, and
// (for those who may read the audit log) who watched recordings in the
// last 30 days.
func (h *Handler) trustPage(w http.ResponseWriter, r *http.Request) error {
	p, _, err := h.project(r)
	if err != nil {
		return err
	}
	enc := map[string]any{}
	if id, byMaster, err := keyring.WrappedBy(p.WrappedKey); err == nil {
		enc["ProjectKeyWrappedBy"], enc["ByMaster"] = id, byMaster
	}
	if h.o.Master != nil {
		enc["MasterID"] = h.o.Master.ID()
	}
	privacy, err := h.privacyData(r, p) // the stored rules and SDK defaults in force
	if err != nil {
		return err
	}
	data := map[string]any{
		"Org": r.PathValue("org"), "Project": p, "Encryption": enc, "Storage": h.o.Storage,
		"Detectors": scrub.Detectors(), "SensitiveFields": scrub.DefaultSensitiveFields, "Privacy": privacy,
	}
	if m := Membership(r.Context()); m != nil && auth.Can(m.Role, auth.PermAuditRead) {
		vs, err := h.replayViewers(r, p)
		if err != nil {
			return err
		}
		data["Viewers"], data["ShowViewers"] = vs, true
	}
	return h.render(w, r, http.StatusOK, "trust", page{Title: "Trust · " + p.Name, Data: data})
}

// replayViewers reads the organisation's audit log for replay views of p
// in the last 30 days.
func (h *Handler) replayViewers(r *http.Request, p *veil.Project) ([]*viewer, error) {
	since := time.Now().AddDate(0, 0, -30)
	by := map[string]*viewer{}
	sessions := map[string]map[string]bool{}
	var after int64
	for n := 0; n < maxAuditScan; {
		page, err := h.o.Store.ListAudit(r.Context(), veil.AuditFilter{OrgID: p.OrgID, AfterSeq: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			after = e.Seq
			if e.Action != audit.ActionReplayView || e.Time.Before(since) || e.Details["project"] != p.ID {
				continue
			}
			v := by[e.ActorID]
			if v == nil {
				v = &viewer{ActorID: e.ActorID}
				by[e.ActorID], sessions[e.ActorID] = v, map[string]bool{}
			}
			v.Views++
			sessions[e.ActorID][e.ObjectID] = true
			if e.Time.After(v.Last) {
				v.Last = e.Time
			}
		}
		n += len(page)
	}
	out := make([]*viewer, 0, len(by))
	for id, v := range by {
		v.Sessions = len(sessions[id])
		if u, err := h.o.Store.FindUserByID(r.Context(), id); err == nil {
			v.Email = u.Email
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Last.After(out[j].Last) })
	return out, nil
}
