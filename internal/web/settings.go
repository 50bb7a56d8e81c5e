package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/settings"
)

// ProjectSettings reads and saves projects' privacy settings
// (*settings.Service: validation, audit, ingest cache invalidation).
type ProjectSettings interface {
	Get(ctx context.Context, projectID string) (*settings.Settings, error)
	PutScrubRules(ctx context.Context, p *veil.Project, r scrub.Rules) (int64, error)
	PutSDK(ctx context.Context, p *veil.Project, v veil.SDKSettings) (int64, error)
}

// maxTryBody bounds the try-it request: a 64 KiB sample plus the rules form.
const maxTryBody = 256 << 10

// detectorView is one built-in detector on the rules form.
type detectorView struct {
	Name string
	On   bool
}

// privacyView is the privacy part of the settings and trust pages.
type privacyView struct {
	Available bool
	CanEdit   bool
	Version   int64
	Rules     scrub.Rules
	Detectors []detectorView
	Disabled  []string
	SDK       veil.SDKSettings
	// SamplePercent is SDK.SampleRate as a percentage, for the form.
	SamplePercent string
	// RuleRows are the custom rules plus two empty rows to add to.
	RuleRows []scrub.CustomRule
	// BaseSafeFields are kept whatever the rules say.
	BaseSafeFields []string
	Formats        []string
}

func (h *Handler) settingsSvc() (ProjectSettings, error) {
	if h.o.Settings == nil {
		return nil, veil.Errorf(veil.EUNAVAILABLE, "Project settings are not available on this server.")
	}
	return h.o.Settings, nil
}

// privacyData loads p's rules and SDK settings for a page. Without a
// settings service the page shows the built-in behaviour.
func (h *Handler) privacyData(r *http.Request, p *veil.Project) (*privacyView, error) {
	v := &privacyView{SDK: veil.DefaultSDKSettings(), BaseSafeFields: settings.BaseSafeFields, Formats: settings.Formats}
	if h.o.Settings != nil {
		s, err := h.o.Settings.Get(r.Context(), p.ID)
		if err != nil {
			return nil, err
		}
		v.Available, v.Version, v.Rules, v.SDK = true, s.Version, s.Rules, s.SDK
	}
	m := Membership(r.Context())
	v.CanEdit = v.Available && m != nil && auth.Can(m.Role, auth.PermProjectManage)
	off := map[string]bool{}
	for _, d := range v.Rules.Disabled {
		off[d] = true
	}
	for _, d := range scrub.Detectors() {
		v.Detectors = append(v.Detectors, detectorView{Name: d, On: !off[d]})
		if off[d] {
			v.Disabled = append(v.Disabled, d)
		}
	}
	v.SamplePercent = strconv.FormatFloat(v.SDK.SampleRate*100, 'f', -1, 64)
	v.RuleRows = append(append([]scrub.CustomRule(nil), v.Rules.CustomRules...), scrub.CustomRule{}, scrub.CustomRule{})
	return v, nil
}

// lines splits a textarea into trimmed, non-empty entries (one per line,
// commas also separate).
func lines(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// rulesFromForm reads the rules editor: detector checkboxes (det_NAME,
// checked = on), rule_name/rule_pattern rows (empty rows skipped),
// safe_fields and sensitive_fields textareas, replacement.
func rulesFromForm(r *http.Request) scrub.Rules {
	var rules scrub.Rules
	for _, d := range scrub.Detectors() {
		if r.PostFormValue("det_"+d) == "" {
			rules.Disabled = append(rules.Disabled, d)
		}
	}
	names, pats := r.PostForm["rule_name"], r.PostForm["rule_pattern"]
	for i := range names {
		n, pat := strings.TrimSpace(names[i]), ""
		if i < len(pats) {
			pat = pats[i]
		}
		if n == "" && strings.TrimSpace(pat) == "" {
			continue
		}
		rules.CustomRules = append(rules.CustomRules, scrub.CustomRule{Name: n, Pattern: pat})
	}
	rules.SafeFields = lines(r.PostFormValue("safe_fields"))
	rules.SensitiveFields = lines(r.PostFormValue("sensitive_fields"))
	rules.Replacement = strings.TrimSpace(r.PostFormValue("replacement"))
	return rules
}

// savedFlash is the settings page's message after a save (?saved=).
var savedFlash = map[string]string{
	"scrubbing": "Scrubbing rules saved. Ingest applies them from the next request (within seconds on other nodes).",
	"sdk":       "SDK masking defaults saved. Browsers pick them up when the SDK next starts (within a minute).",
}

func (h *Handler) settingsURL(p *veil.Project, anchor string) string {
	return "/orgs/" + p.OrgID + "/projects/" + p.ID + "/settings?saved=" + anchor + "#" + anchor
}

// saveScrubRules handles "POST /orgs/{org}/projects/{project}/settings/scrub-rules"
// (admins): validated (the error names the entry), stored, audited, and
// applied by ingest to the next request.
func (h *Handler) saveScrubRules(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.settingsSvc()
	if err != nil {
		return err
	}
	p, _, err := h.project(r)
	if err != nil {
		return err
	}
	if _, err := svc.PutScrubRules(r.Context(), p, rulesFromForm(r)); err != nil {
		return err
	}
	return redirect(w, r, h.settingsURL(p, "scrubbing"))
}

// saveSDKSettings handles "POST …/settings/sdk" (admins): the masking
// defaults served to the SDK by GET /v1/sdk/config.
func (h *Handler) saveSDKSettings(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.settingsSvc()
	if err != nil {
		return err
	}
	p, _, err := h.project(r)
	if err != nil {
		return err
	}
	pct, err := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("sample_percent")), 64)
	if err != nil || pct < 0 || pct > 100 {
		return veil.Errorf(veil.EINVALID, "The sample rate must be a percentage between 0 and 100.")
	}
	on := func(k string) bool { return r.PostFormValue(k) != "" }
	v := veil.SDKSettings{
		Replay: on("replay"), SampleRate: pct / 100,
		MaskAllText: on("mask_all_text"), MaskAllInputs: on("mask_all_inputs"), BlockMedia: on("block_media"),
		Console: r.PostFormValue("console"), Network: r.PostFormValue("network"),
		NetworkDetails: on("network_details"), QueryParams: on("query_params"),
	}
	if _, err := svc.PutSDK(r.Context(), p, v); err != nil {
		return err
	}
	return redirect(w, r, h.settingsURL(p, "sdk"))
}

// tryScrub handles "POST …/settings/scrub-test" (JSON, CSRF-checked like
// every unsafe request): scrubs the posted sample (at most 64 KiB) with
// the rules as currently edited on the form and returns the output and
// counts per detector. The sample is neither stored nor logged.
func (h *Handler) tryScrub(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.settingsSvc(); err != nil {
		return err
	}
	if _, _, err := h.project(r); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTryBody)
	if err := r.ParseForm(); err != nil {
		return veil.Errorf(veil.ETOOLARGE, "The sample is too large (at most %d KiB).", settings.MaxTryInput>>10)
	}
	out, rep, err := settings.Try(rulesFromForm(r), r.PostFormValue("format"), []byte(r.PostFormValue("sample")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"output": string(out), "counts": rep, "total": rep.Total()})
	return nil
}
