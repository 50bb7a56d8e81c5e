package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/writekey"
)

// listKeys handles "GET …/projects/{project}/keys" (members).
func (h *Handler) listKeys(w http.ResponseWriter, r *http.Request) error {
	p, err := h.project(r)
	if err != nil {
		return err
	}
	ks, err := h.o.Store.ListKeys(r.Context(), p.ID)
	if err != nil {
		return err
	}
	l, err := pageOf(r, ks, func(k *veil.WriteKey) string { return k.ID })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// NewKey is a created key with its secret, shown only here.
type NewKey struct {
	Key    *veil.WriteKey `json:"key"`
	Secret string         `json:"secret"`
}

// createKey handles "POST …/projects/{project}/keys" (members).
func (h *Handler) createKey(w http.ResponseWriter, r *http.Request) error {
	p, err := h.project(r)
	if err != nil {
		return err
	}
	var in struct {
		Kind    veil.KeyKind `json:"kind"`
		Origins []string     `json:"origins"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	k, secret, err := h.o.Keys.CreateKey(r.Context(), p.ID, in.Kind, in.Origins)
	if err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: p.OrgID, Action: audit.ActionKeyCreate, ObjectKind: "key", ObjectID: k.ID,
		Details: map[string]string{"project": p.ID, "kind": string(k.Kind)}}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NewKey{k, secret})
	return nil
}

func (h *Handler) key(r *http.Request) (*veil.Project, *veil.WriteKey, error) {
	p, err := h.project(r)
	if err != nil {
		return nil, nil, err
	}
	k, err := h.o.Store.FindKey(r.Context(), p.ID, r.PathValue("key"))
	return p, k, err
}

// rotateKey handles "POST …/keys/{key}/rotate?overlap=24h" (members): a
// new key of the same kind and origins; the old one keeps working for the
// overlap (default none, at most 30 days), then is revoked.
func (h *Handler) rotateKey(w http.ResponseWriter, r *http.Request) error {
	p, old, err := h.key(r)
	if err != nil {
		return err
	}
	var overlap time.Duration
	if v := r.URL.Query().Get("overlap"); v != "" {
		if overlap, err = time.ParseDuration(v); err != nil {
			return veil.Errorf(veil.EINVALID, "Query parameter overlap must be a duration such as 24h.")
		}
	}
	k, secret, err := h.o.Keys.RotateKey(r.Context(), p.ID, old, overlap)
	if err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: p.OrgID, Action: audit.ActionKeyRotate, ObjectKind: "key", ObjectID: old.ID,
		Details: map[string]string{"project": p.ID, "new_key": k.ID}}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NewKey{k, secret})
	return nil
}

// revokeKey handles "POST …/keys/{key}/revoke" (members).
func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request) error {
	p, k, err := h.key(r)
	if err != nil {
		return err
	}
	if err := h.o.Keys.RevokeKey(r.Context(), p.ID, k.ID); err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: p.OrgID, Action: audit.ActionKeyRevoke, ObjectKind: "key", ObjectID: k.ID,
		Details: map[string]string{"project": p.ID}}); err != nil {
		return err
	}
	k, err = h.o.Store.FindKey(r.Context(), p.ID, k.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, k)
	return nil
}

// setOrigins handles "PUT …/keys/{key}/origins" (members): the browser
// key's allowed origins.
func (h *Handler) setOrigins(w http.ResponseWriter, r *http.Request) error {
	p, k, err := h.key(r)
	if err != nil {
		return err
	}
	var in struct {
		Origins []string `json:"origins"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if k.Kind != veil.KeyBrowser {
		return veil.Errorf(veil.EINVALID, "Only browser keys have origins.")
	}
	norm, err := normalizeOrigins(in.Origins)
	if err != nil {
		return err
	}
	if err := h.o.Store.UpdateKeyOrigins(r.Context(), p.ID, k.ID, norm); err != nil {
		return err
	}
	if err := record(r, audit.Entry{OrgID: p.OrgID, Action: audit.ActionKeyOrigins, ObjectKind: "key", ObjectID: k.ID,
		Details: map[string]string{"project": p.ID, "origins": strconv.Itoa(len(norm))}}); err != nil {
		return err
	}
	k.Origins = norm
	writeJSON(w, http.StatusOK, k)
	return nil
}

func normalizeOrigins(in []string) ([]string, error) {
	out := []string{}
	for _, o := range in {
		n, err := writekey.NormalizeOrigin(o)
		if err != nil {
			return nil, veil.Errorf(veil.EINVALID, "%s", err.Error())
		}
		out = append(out, n)
	}
	return out, nil
}
