package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/settings"
)

// ProjectSettings reads and saves projects' privacy settings
// (*settings.Service: validation, audit, cache invalidation).
type ProjectSettings interface {
	Get(ctx context.Context, projectID string) (*settings.Settings, error)
	PutScrubRules(ctx context.Context, p *veil.Project, r scrub.Rules) (int64, error)
	PutSDK(ctx context.Context, p *veil.Project, v veil.SDKSettings) (int64, error)
}

// maxSettingsBody bounds rules and try-it bodies (64 custom rules of 1 KiB
// plus field lists, or a 64 KiB sample with rules).
const maxSettingsBody = 512 << 10

// ScrubRulesView is a project's stored scrubbing rules and settings version.
type ScrubRulesView struct {
	Version int64       `json:"version"`
	Rules   scrub.Rules `json:"rules"`
}

// SDKSettingsView is a project's SDK masking defaults and settings version.
type SDKSettingsView struct {
	Version int64            `json:"version"`
	SDK     veil.SDKSettings `json:"sdk"`
}

// ScrubTestResult is the answer of the try-it endpoint: the scrubbed
// sample and the redactions per detector (never the removed values).
type ScrubTestResult struct {
	Output string       `json:"output"`
	Counts scrub.Report `json:"counts"`
	Total  int          `json:"total"`
	Rules  string       `json:"rules"` // "posted" or "stored"
}

func (h *Handler) settings() (ProjectSettings, error) {
	if h.o.Settings == nil {
		return nil, veil.Errorf(veil.EUNAVAILABLE, "Project settings are not available on this server.")
	}
	return h.o.Settings, nil
}

// projectSettings returns the settings service and the route's project
// (404 for another tenant's), the start of every settings handler.
func (h *Handler) projectSettings(r *http.Request) (ProjectSettings, *veil.Project, error) {
	svc, err := h.settings()
	if err != nil {
		return nil, nil, err
	}
	p, err := h.project(r)
	if err != nil {
		return nil, nil, err
	}
	return svc, p, nil
}

// decodeLarge is decode with a larger limit; an oversized body is an error,
// not a truncated document.
func decodeLarge(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxSettingsBody+1))
	if err != nil {
		return veil.Errorf(veil.EINVALID, "Request body could not be read.")
	}
	if len(b) > maxSettingsBody {
		return veil.Errorf(veil.ETOOLARGE, "Request body is larger than %d KiB.", maxSettingsBody>>10)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return veil.Errorf(veil.EINVALID, "Request body required.")
		}
		return veil.Errorf(veil.EINVALID, "Request body is not valid JSON for this route: %s", jsonMsg(err))
	}
	if dec.More() {
		return veil.Errorf(veil.EINVALID, "Request body has data after the JSON value.")
	}
	return nil
}

// getScrubRules handles "GET /api/v1/orgs/{org}/projects/{project}/scrub-rules".
func (h *Handler) getScrubRules(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.projectSettings(r)
	if err != nil {
		return err
	}
	s, err := svc.Get(r.Context(), p.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ScrubRulesView{Version: s.Version, Rules: s.Rules})
	return nil
}

// putScrubRules handles "PUT …/scrub-rules": the body is a rules object
// (docs/scrubbing.md); it is validated (400 naming the entry), stored,
// audited, and applies to the next ingest request on this node.
func (h *Handler) putScrubRules(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.projectSettings(r)
	if err != nil {
		return err
	}
	var rules scrub.Rules
	if err := decodeLarge(r, &rules); err != nil {
		return err
	}
	v, err := svc.PutScrubRules(r.Context(), p, rules)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ScrubRulesView{Version: v, Rules: rules})
	return nil
}

// testScrubRules handles "POST …/scrub-rules/test": runs the scrubbing
// engine on a posted sample with the posted rules (or, without "rules",
// the stored ones) and returns the output and counts. The sample is not
// stored or logged.
func (h *Handler) testScrubRules(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.projectSettings(r)
	if err != nil {
		return err
	}
	var in struct {
		Text   string       `json:"text"`
		Format string       `json:"format"`
		Rules  *scrub.Rules `json:"rules"`
	}
	if err := decodeLarge(r, &in); err != nil {
		return err
	}
	res := ScrubTestResult{Rules: "posted"}
	var rules scrub.Rules
	if in.Rules != nil {
		rules = *in.Rules
	} else {
		s, err := svc.Get(r.Context(), p.ID)
		if err != nil {
			return err
		}
		rules, res.Rules = s.Rules, "stored"
	}
	out, rep, err := settings.Try(rules, in.Format, []byte(in.Text))
	if err != nil {
		return err
	}
	res.Output, res.Counts, res.Total = string(out), rep, rep.Total()
	writeJSON(w, http.StatusOK, res)
	return nil
}

// getSDKSettings handles "GET …/sdk-settings".
func (h *Handler) getSDKSettings(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.projectSettings(r)
	if err != nil {
		return err
	}
	s, err := svc.Get(r.Context(), p.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, SDKSettingsView{Version: s.Version, SDK: s.SDK})
	return nil
}

// putSDKSettings handles "PUT …/sdk-settings": the body is an SDK settings
// object; fields left out take their defaults.
func (h *Handler) putSDKSettings(w http.ResponseWriter, r *http.Request) error {
	svc, p, err := h.projectSettings(r)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return veil.Errorf(veil.EINVALID, "Request body could not be read.")
	}
	v, err := veil.ParseSDKSettings(b)
	if err != nil {
		return err
	}
	ver, err := svc.PutSDK(r.Context(), p, v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, SDKSettingsView{Version: ver, SDK: v})
	return nil
}
