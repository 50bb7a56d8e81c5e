package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/writekey"
	"github.com/veil-privacy/veil/sdk"
)

// Keys issues and retires write keys (provision.Provisioner).
type Keys interface {
	CreateKey(ctx context.Context, projectID string, kind veil.KeyKind, origins []string) (*veil.WriteKey, string, error)
	RevokeKey(ctx context.Context, projectID, keyID string) error
	RotateKey(ctx context.Context, projectID string, old *veil.WriteKey, overlap time.Duration) (*veil.WriteKey, string, error)
}

// keyStore is what the settings page reads and changes of write keys.
type keyStore interface {
	ListKeys(ctx context.Context, projectID string) ([]*veil.WriteKey, error)
	FindKey(ctx context.Context, projectID, keyID string) (*veil.WriteKey, error)
	UpdateKeyOrigins(ctx context.Context, projectID, keyID string, origins []string) error
}

// keys returns the key store and, when write is set, the key service.
func (h *Handler) keys(write bool) (keyStore, Keys, error) {
	ks, ok := h.o.Store.(keyStore)
	if !ok || write && h.o.Keys == nil {
		return nil, nil, veil.Errorf(veil.EUNAVAILABLE, "Key management is not available on this server.")
	}
	return ks, h.o.Keys, nil
}

// projectSettings handles "GET /orgs/{org}/projects/{project}/settings":
// write keys, their origins, and the install snippet.
func (h *Handler) projectSettings(w http.ResponseWriter, r *http.Request) error {
	return h.renderSettings(w, r, http.StatusOK, savedFlash[r.URL.Query().Get("saved")], "")
}

func (h *Handler) renderSettings(w http.ResponseWriter, r *http.Request, status int, flash, newKey string) error {
	p, _, err := h.project(r)
	if err != nil {
		return err
	}
	ks, _, err := h.keys(false)
	if err != nil {
		return err
	}
	list, err := ks.ListKeys(r.Context(), p.ID)
	if err != nil {
		return err
	}
	snippetKey := ""
	if strings.HasPrefix(newKey, "veil_wk_") {
		snippetKey = newKey
	}
	privacy, err := h.privacyData(r, p)
	if err != nil {
		return err
	}
	lifecycleHTML, err := h.lifecycleSection(r, p)
	if err != nil {
		return err
	}
	destHTML, err := h.destinationsSection(r, p.ID)
	if err != nil {
		return err
	}
	m := Membership(r.Context())
	return h.render(w, r, status, "project", page{Title: "Settings · " + p.Name, Flash: flash, Data: map[string]any{
		"Org": r.PathValue("org"), "Project": p, "Keys": list, "NewKey": newKey, "Now": time.Now(),
		"Snippet": sdk.Snippet(h.o.Origin, snippetKey), "Integrity": sdk.Integrity(), "SDKVersion": sdk.Version(),
		"CanManage": m != nil && auth.Can(m.Role, auth.PermKeysManage), "Lifecycle": lifecycleHTML, "Privacy": privacy,
		"Destinations": destHTML,
	}})
}

func parseOrigins(s string) ([]string, error) {
	out := []string{}
	for _, o := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ' ' || r == '\r' }) {
		n, err := writekey.NormalizeOrigin(o)
		if err != nil {
			return nil, veil.Errorf(veil.EINVALID, "%s", err.Error())
		}
		out = append(out, n)
	}
	return out, nil
}

// createKey handles "POST /orgs/{org}/projects/{project}/keys"; the new
// key is shown once.
func (h *Handler) createKey(w http.ResponseWriter, r *http.Request) error {
	p, _, err := h.project(r)
	if err != nil {
		return err
	}
	_, svc, err := h.keys(true)
	if err != nil {
		return err
	}
	kind := veil.KeyKind(r.PostFormValue("kind"))
	origins, err := parseOrigins(r.PostFormValue("origins"))
	if err != nil {
		return err
	}
	k, secret, err := svc.CreateKey(r.Context(), p.ID, kind, origins)
	if err != nil {
		return err
	}
	if err := audit.Record(r.Context(), audit.Entry{OrgID: p.OrgID, Action: audit.ActionKeyCreate, ObjectKind: "key", ObjectID: k.ID,
		Details: map[string]string{"project": p.ID, "kind": string(k.Kind)}}); err != nil {
		return err
	}
	return h.renderSettings(w, r, http.StatusCreated, "Key created. Copy it now: it is not shown again.", secret)
}

func (h *Handler) formKey(r *http.Request, write bool) (*veil.Project, *veil.WriteKey, keyStore, Keys, error) {
	p, _, err := h.project(r)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ks, svc, err := h.keys(write)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	k, err := ks.FindKey(r.Context(), p.ID, r.PathValue("key"))
	return p, k, ks, svc, err
}

// rotateKey handles "POST …/keys/{key}/rotate": a new key with the same
// kind and origins; the old one works for the chosen overlap.
func (h *Handler) rotateKey(w http.ResponseWriter, r *http.Request) error {
	p, old, _, svc, err := h.formKey(r, true)
	if err != nil {
		return err
	}
	overlap, err := parseDur(r.PostFormValue("overlap"))
	if err != nil {
		return err
	}
	if overlap > 30*24*time.Hour {
		return veil.Errorf(veil.EINVALID, "The overlap is at most 30 days.")
	}
	k, secret, err := svc.RotateKey(r.Context(), p.ID, old, overlap)
	if err != nil {
		return err
	}
	if err := audit.Record(r.Context(), audit.Entry{OrgID: p.OrgID, Action: audit.ActionKeyRotate, ObjectKind: "key", ObjectID: old.ID,
		Details: map[string]string{"project": p.ID, "new_key": k.ID}}); err != nil {
		return err
	}
	return h.renderSettings(w, r, http.StatusCreated, "Key rotated. Copy the new key now: it is not shown again.", secret)
}

// revokeKey handles "POST …/keys/{key}/revoke": the key stops working now.
func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request) error {
	p, k, _, svc, err := h.formKey(r, true)
	if err != nil {
		return err
	}
	if err := svc.RevokeKey(r.Context(), p.ID, k.ID); err != nil {
		return err
	}
	if err := audit.Record(r.Context(), audit.Entry{OrgID: p.OrgID, Action: audit.ActionKeyRevoke, ObjectKind: "key", ObjectID: k.ID,
		Details: map[string]string{"project": p.ID}}); err != nil {
		return err
	}
	return redirect(w, r, "/orgs/"+p.OrgID+"/projects/"+p.ID+"/settings")
}

// keyOrigins handles "POST …/keys/{key}/origins": replaces a browser key's
// allowed origins.
func (h *Handler) keyOrigins(w http.ResponseWriter, r *http.Request) error {
	p, k, ks, _, err := h.formKey(r, false)
	if err != nil {
		return err
	}
	origins, err := parseOrigins(r.PostFormValue("origins"))
	if err != nil {
		return err
	}
	if err := ks.UpdateKeyOrigins(r.Context(), p.ID, k.ID, origins); err != nil {
		return err
	}
	if err := audit.Record(r.Context(), audit.Entry{OrgID: p.OrgID, Action: audit.ActionKeyOrigins, ObjectKind: "key", ObjectID: k.ID,
		Details: map[string]string{"project": p.ID}}); err != nil {
		return err
	}
	return redirect(w, r, "/orgs/"+p.OrgID+"/projects/"+p.ID+"/settings")
}
