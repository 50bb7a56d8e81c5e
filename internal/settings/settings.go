// Package settings keeps a project's privacy settings: its scrubbing rules
// (scrub.Rules) and the masking defaults pushed to the browser SDK
// (veil.SDKSettings). The dashboard, the API and the CLI save them through
// a Service, which validates them (an error names the wrong entry), stores
// them as JSON with a version that grows on every change, writes the audit
// log and tells subscribers (the ingest scrubber cache of this process)
// at once. Other nodes notice the new version within their cache's TTL.
package settings

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/scrub"
)

// Audit actions.
const (
	ActionScrubRulesChange  = "project.scrub_rules_change"
	ActionSDKSettingsChange = "project.sdk_settings_change"
)

// Store is the storage of project settings (*store.DB).
type Store interface {
	FindProjectSettings(ctx context.Context, projectID string) (*veil.ProjectSettings, error)
	ProjectSettingsVersion(ctx context.Context, projectID string) (int64, error)
	PutProjectScrubRules(ctx context.Context, projectID, rules string) (int64, error)
	PutProjectSDKSettings(ctx context.Context, projectID, sdk string) (int64, error)
}

// BaseSafeFields are never scrubbed whatever a project's rules say: the
// fields Veil's own SDK sends that look sensitive by name but are not
// ("sessionId" is the replay session's random id, which links events to
// their recording). They equal ingest.DefaultScrubRules().SafeFields (a
// test checks).
var BaseSafeFields = []string{"context.veil.sessionId"}

// Effective returns the rules ingest applies for stored rules r: r plus
// BaseSafeFields.
func Effective(r scrub.Rules) scrub.Rules {
	out := r
	out.SafeFields = append(append([]string(nil), r.SafeFields...), BaseSafeFields...)
	return out
}

// EffectiveFor returns the rules ingest applies to input of a format:
// Effective(r) for Segment messages ("text", "json"), r itself for rrweb
// replay segments ("rrweb"), where BaseSafeFields name nothing of Veil's
// (and a dotted safe field would cost the rrweb walk a lookup per key).
func EffectiveFor(r scrub.Rules, format string) scrub.Rules {
	if format == "rrweb" {
		return r
	}
	return Effective(r)
}

// Settings are a project's decoded settings.
type Settings struct {
	Rules   scrub.Rules
	SDK     veil.SDKSettings
	Version int64
}

// ParseRules decodes rules from JSON (unknown fields refused) and
// validates them. Errors are veil.EINVALID and name the wrong entry.
func ParseRules(b []byte) (scrub.Rules, error) {
	var r scrub.Rules
	if len(bytes.TrimSpace(b)) == 0 {
		return r, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, veil.Errorf(veil.EINVALID, "Scrubbing rules are not valid JSON: %s", err.Error())
	}
	if dec.More() {
		return r, veil.Errorf(veil.EINVALID, "Scrubbing rules: unexpected data after the JSON object.")
	}
	return r, ValidateRules(r)
}

// ValidateRules runs scrub.Rules.Validate and returns its message as a
// veil.EINVALID error, e.g. `invalid scrub rules: custom_rules[0] "x":
// pattern is not valid Go RE2 syntax: …`.
func ValidateRules(r scrub.Rules) error {
	if err := r.Validate(); err != nil {
		return veil.Errorf(veil.EINVALID, "%s", err.Error())
	}
	if err := Effective(r).Validate(); err != nil {
		return veil.Errorf(veil.EINVALID, "%s", err.Error())
	}
	return nil
}

// Service reads and saves project settings.
type Service struct {
	store Store
	mu    sync.Mutex
	subs  []func(projectID string)
}

// New returns a Service on st.
func New(st Store) *Service { return &Service{store: st} }

// OnChange registers f, called (synchronously, after the change is
// stored) with the project id whenever this Service saves settings.
func (s *Service) OnChange(f func(projectID string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, f)
}

func (s *Service) changed(projectID string) {
	s.mu.Lock()
	subs := slices.Clone(s.subs)
	s.mu.Unlock()
	for _, f := range subs {
		f(projectID)
	}
}

// Get returns a project's settings; missing ones are the defaults. The
// caller has checked that the project belongs to the caller's tenant.
func (s *Service) Get(ctx context.Context, projectID string) (*Settings, error) {
	ps, err := s.store.FindProjectSettings(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := &Settings{Version: ps.Version}
	// Stored values were validated when saved; a value that no longer
	// parses (a detector removed in a later version) is an error, not a
	// silent fallback to weaker rules.
	if out.Rules, err = ParseRules([]byte(ps.ScrubRules)); err != nil {
		return nil, fmt.Errorf("stored scrub rules of project %s: %w", projectID, err)
	}
	if out.SDK, err = veil.ParseSDKSettings([]byte(ps.SDK)); err != nil {
		return nil, fmt.Errorf("stored SDK settings of project %s: %w", projectID, err)
	}
	return out, nil
}

// Version returns the version of a project's settings (0: none saved).
func (s *Service) Version(ctx context.Context, projectID string) (int64, error) {
	return s.store.ProjectSettingsVersion(ctx, projectID)
}

// PutScrubRules validates p's scrubbing rules, records the change in the
// audit log (ctx must carry one, see audit.NewContext; without it nothing
// changes), stores them and notifies subscribers. It returns the new
// version.
func (s *Service) PutScrubRules(ctx context.Context, p *veil.Project, r scrub.Rules) (int64, error) {
	if err := ValidateRules(r); err != nil {
		return 0, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("encode scrub rules: %w", err)
	}
	// Recorded first: if the entry cannot be written, nothing changes.
	err = audit.Record(ctx, audit.Entry{OrgID: p.OrgID, Action: ActionScrubRulesChange, ObjectKind: "project", ObjectID: p.ID,
		Details: map[string]string{"disabled": strings.Join(r.Disabled, ","),
			"custom_rules": strconv.Itoa(len(r.CustomRules)), "safe_fields": strconv.Itoa(len(r.SafeFields)),
			"sensitive_fields": strconv.Itoa(len(r.SensitiveFields))}})
	if err != nil {
		return 0, fmt.Errorf("audit scrub rules change: %w", err)
	}
	v, err := s.store.PutProjectScrubRules(ctx, p.ID, string(b))
	if err != nil {
		return 0, err
	}
	s.changed(p.ID)
	return v, nil
}

// PutSDK validates p's SDK masking defaults, records the change in the
// audit log, stores them and notifies subscribers. It returns the new
// version.
func (s *Service) PutSDK(ctx context.Context, p *veil.Project, v veil.SDKSettings) (int64, error) {
	if err := v.Validate(); err != nil {
		return 0, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encode SDK settings: %w", err)
	}
	if err := audit.Record(ctx, audit.Entry{OrgID: p.OrgID, Action: ActionSDKSettingsChange, ObjectKind: "project", ObjectID: p.ID,
		Details: map[string]string{"settings": string(b)}}); err != nil {
		return 0, fmt.Errorf("audit SDK settings change: %w", err)
	}
	ver, err := s.store.PutProjectSDKSettings(ctx, p.ID, string(b))
	if err != nil {
		return 0, err
	}
	s.changed(p.ID)
	return ver, nil
}
