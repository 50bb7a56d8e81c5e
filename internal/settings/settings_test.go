package settings_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/settings"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/store/storetest"
)

func TestBaseSafeFieldsMatchIngest(t *testing.T) {
	if !slices.Equal(settings.BaseSafeFields, ingest.DefaultScrubRules().SafeFields) {
		t.Fatalf("BaseSafeFields %v != ingest.DefaultScrubRules().SafeFields %v", settings.BaseSafeFields, ingest.DefaultScrubRules().SafeFields)
	}
	r := settings.Effective(scrub.Rules{SafeFields: []string{"order_id"}})
	if !slices.Equal(r.SafeFields, []string{"order_id", "context.veil.sessionId"}) {
		t.Fatalf("Effective safe fields = %v", r.SafeFields)
	}
}

func TestParseRules(t *testing.T) {
	for _, tt := range []struct{ in, err string }{
		{``, ""},
		{`{}`, ""},
		{`{"disabled":["ipv4"],"custom_rules":[{"name":"emp","pattern":"EMP-\\d+"}]}`, ""},
		{`{"custom_rules":[{"name":"x","pattern":"(a"}]}`, `custom_rules[0] "x": pattern is not valid Go RE2 syntax`},
		{`{"custom_rules":[{"name":"Bad Name","pattern":"a"}]}`, `custom_rules[0]: name "Bad Name"`},
		{`{"disabled":["nope"]}`, `disabled: unknown detector "nope"`},
		{`{"replacement":"\""}`, `replacement: must not contain quotes`},
		{`{"unknown":1}`, `unknown field "unknown"`},
		{`{} {}`, `unexpected data`},
		{`[`, `not valid JSON`},
	} {
		_, err := settings.ParseRules([]byte(tt.in))
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || veil.ErrorCode(err) != veil.EINVALID) {
			t.Errorf("ParseRules(%s) = %v, want %q", tt.in, err, tt.err)
		}
	}
}

func TestService(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "veil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	org := storetest.MustCreateOrg(t, db, "acme")
	p := storetest.MustCreateProject(t, db, org.ID, "web")
	svc := settings.New(db)
	var changed []string
	svc.OnChange(func(id string) { changed = append(changed, id) })

	s, err := svc.Get(ctx, p.ID)
	if err != nil || s.Version != 0 || s.SDK != veil.DefaultSDKSettings() || !reflect.DeepEqual(s.Rules, scrub.Rules{}) {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	// Without an audit log in the context nothing may change silently...
	if _, err := svc.PutScrubRules(ctx, p, scrub.Rules{Disabled: []string{"ipv4"}}); err == nil {
		t.Fatal("saved without an audit log")
	}
	actx := audit.WithActor(audit.NewContext(ctx, &audit.Log{Store: db}), audit.Actor{Kind: audit.ActorSystem, ID: "test"})
	if _, err := svc.PutScrubRules(actx, p, scrub.Rules{CustomRules: []scrub.CustomRule{{Name: "x", Pattern: "("}}}); veil.ErrorCode(err) != veil.EINVALID {
		t.Fatalf("invalid rules: %v", err)
	}
	v, err := svc.PutScrubRules(actx, p, scrub.Rules{Disabled: []string{"ipv4"}})
	if err != nil || v != 1 {
		t.Fatalf("save: %d %v", v, err)
	}
	sdk := veil.DefaultSDKSettings()
	sdk.Console = "nope"
	if _, err := svc.PutSDK(actx, p, sdk); veil.ErrorCode(err) != veil.EINVALID {
		t.Fatalf("invalid SDK settings: %v", err)
	}
	sdk.Console = veil.CaptureOff
	if _, err := svc.PutSDK(actx, p, sdk); err != nil {
		t.Fatal(err)
	}
	s, err = svc.Get(ctx, p.ID)
	if err != nil || !slices.Equal(s.Rules.Disabled, []string{"ipv4"}) || s.SDK.Console != veil.CaptureOff {
		t.Fatalf("stored: %+v %v", s, err)
	}
	if len(changed) < 2 || changed[len(changed)-1] != p.ID {
		t.Errorf("subscribers told %v", changed)
	}
	var actions []string
	entries, _ := db.ListAudit(ctx, veil.AuditFilter{OrgID: org.ID, Limit: 100})
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if !slices.Contains(actions, settings.ActionScrubRulesChange) || !slices.Contains(actions, settings.ActionSDKSettingsChange) {
		t.Errorf("audit actions %v", actions)
	}
}

// FuzzParseRules: posted or stored rules never panic the parser; accepted
// rules validate, compile, and survive a JSON round trip unchanged.
func FuzzParseRules(f *testing.F) {
	for _, s := range []string{`{}`, `{"disabled":[]}`, `{"disabled":["ipv4","ipv6"]}`, `{"custom_rules":[{"name":"e","pattern":"E-\\d+"}],"safe_fields":["a.b"],"sensitive_fields":["dob"],"replacement":"*"}`, `{"custom_rules":[{"name":"x","pattern":"(a"}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := settings.ParseRules(b)
		if err != nil {
			return
		}
		if _, err := scrub.New(settings.Effective(r)); err != nil {
			t.Fatalf("accepted rules do not compile: %v", err)
		}
		j, _ := json.Marshal(r)
		r2, err := settings.ParseRules(j)
		j2, _ := json.Marshal(r2)
		if err != nil || string(j) != string(j2) {
			t.Fatalf("round trip: %v\n%s\n%s", err, j, j2)
		}
	})
}
