package api_test

import (
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/api"
)

func TestScrubRules(t *testing.T) {
	e := newEnv(t)
	a := e.fix.Orgs["A"]
	base := "/api/v1/orgs/" + a.Org.ID + "/projects/" + a.Project.ID
	admin, viewer := e.fix.Tokens["admin"], e.fix.Tokens["viewer"]

	code, body := e.do("GET", base+"/scrub-rules", viewer, "")
	if v := decodeJSON[api.ScrubRulesView](t, body); code != 200 || v.Version != 0 || len(v.Rules.CustomRules) != 0 {
		t.Fatalf("fresh rules: %d %s", code, body)
	}

	tests := []struct {
		name, body string
		code       int
		want       string
	}{
		{"BadRegexp", `{"custom_rules":[{"name":"x","pattern":"(a"}]}`, 400, `custom_rules[0] \"x\": pattern is not valid Go RE2 syntax`},
		{"UnknownDetector", `{"disabled":["cards"]}`, 400, `disabled: unknown detector \"cards\"`},
		{"UnknownField", `{"disable":["card"]}`, 400, `unknown field`},
		{"EmptyMatch", `{"custom_rules":[{"name":"all","pattern":"a*"}]}`, 400, `matches the empty string`},
		{"OK", `{"custom_rules":[{"name":"employee-id","pattern":"EMP-\\d{6}"}],"safe_fields":["order_id"]}`, 200, `"version":1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := e.do("PUT", base+"/scrub-rules", admin, tt.body)
			if code != tt.code || !strings.Contains(body, tt.want) {
				t.Fatalf("PUT %s: %d %s; want %d containing %s", tt.body, code, body, tt.code, tt.want)
			}
		})
	}
	code, body = e.do("GET", base+"/scrub-rules", viewer, "")
	if v := decodeJSON[api.ScrubRulesView](t, body); code != 200 || v.Version != 1 || len(v.Rules.CustomRules) != 1 || v.Rules.CustomRules[0].Name != "employee-id" {
		t.Fatalf("stored rules: %d %s", code, body)
	}

	t.Run("Try", func(t *testing.T) {
		for _, tt := range []struct {
			name, body string
			code       int
			output     string
			counts     map[string]int
			rules      string
		}{
			{"StoredRules", `{"text":"EMP-123456 wrote to bob@example.com"}`, 200, "[Filtered] wrote to [Filtered]", map[string]int{"custom:employee-id": 1, "email": 1}, "stored"},
			{"PostedRules", `{"text":"EMP-123456 wrote to bob@example.com","rules":{"disabled":["email"]}}`, 200, "EMP-123456 wrote to bob@example.com", map[string]int{}, "posted"},
			{"JSON", `{"format":"json","text":"{\"order_id\":\"4111111111111111\",\"note\":\"4111111111111111\"}"}`, 200, `{"order_id":"4111111111111111","note":"[Filtered]"}`, map[string]int{"card": 1}, "stored"},
			{"RRWeb", `{"format":"rrweb","text":"[{\"type\":4,\"timestamp\":1,\"data\":{\"href\":\"https://a.example/?e=bob@example.com\"}}]"}`, 200, `[{"type":4,"timestamp":1,"data":{"href":"https://a.example/?e=***************"}}]`, map[string]int{"email": 1}, "stored"},
			{"BadJSON", `{"format":"json","text":"{\"a\":"}`, 400, "", nil, ""},
			{"BadFormat", `{"format":"xml","text":"x"}`, 400, "", nil, ""},
			{"BadPostedRules", `{"text":"x","rules":{"replacement":"\""}}`, 400, "", nil, ""},
			{"TooLarge", `{"text":"` + strings.Repeat("a", 70<<10) + `"}`, 400, "", nil, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				code, body := e.do("POST", base+"/scrub-rules/test", viewer, tt.body)
				if code != tt.code {
					t.Fatalf("%d %s, want %d", code, body, tt.code)
				}
				if code != 200 {
					if !strings.Contains(body, `"code":"invalid"`) {
						t.Errorf("error body %s", body)
					}
					return
				}
				r := decodeJSON[api.ScrubTestResult](t, body)
				if r.Output != tt.output || r.Rules != tt.rules || r.Total != len(tt.counts) {
					t.Errorf("result %+v, want output %q rules %s", r, tt.output, tt.rules)
				}
				for k, n := range tt.counts {
					if r.Counts[k] != n {
						t.Errorf("counts %v, want %v", r.Counts, tt.counts)
					}
				}
			})
		}
	})

	t.Run("SDKSettings", func(t *testing.T) {
		code, body := e.do("PUT", base+"/sdk-settings", admin, `{"mask_all_text":true,"console":"errors","sample_rate":0.5}`)
		if code != 200 || !strings.Contains(body, `"mask_all_text":true`) || !strings.Contains(body, `"network":"page"`) || !strings.Contains(body, `"version":2`) {
			t.Fatalf("PUT sdk-settings: %d %s", code, body)
		}
		for _, bad := range []string{`{"console":"all"}`, `{"sample_rate":2}`, `{"mask_everything":true}`} {
			if code, body := e.do("PUT", base+"/sdk-settings", admin, bad); code != 400 {
				t.Errorf("PUT %s: %d %s, want 400", bad, code, body)
			}
		}
		code, body = e.do("GET", base+"/sdk-settings", viewer, "")
		if v := decodeJSON[api.SDKSettingsView](t, body); code != 200 || !v.SDK.MaskAllText || v.SDK.SampleRate != 0.5 || v.SDK.Console != "errors" || !v.SDK.Replay {
			t.Fatalf("GET sdk-settings: %d %s", code, body)
		}
	})

	t.Run("Audited", func(t *testing.T) {
		_, body := e.do("GET", "/api/v1/orgs/"+a.Org.ID+"/audit", e.fix.Tokens["owner"], "")
		if !strings.Contains(body, "project.scrub_rules_change") || !strings.Contains(body, "project.sdk_settings_change") {
			t.Errorf("audit log lacks the changes: %.2000s", body)
		}
	})

	t.Run("OtherTenant", func(t *testing.T) {
		b := e.fix.Orgs["B"]
		for _, path := range []string{
			"/api/v1/orgs/" + a.Org.ID + "/projects/" + b.Project.ID + "/scrub-rules", // B's project under A
			"/api/v1/orgs/" + b.Org.ID + "/projects/" + b.Project.ID + "/scrub-rules", // B's org with A's token
		} {
			if code, body := e.do("PUT", path, admin, `{"disabled":["ipv4"]}`); code != 404 {
				t.Errorf("PUT %s: %d %s, want 404", path, code, body)
			}
			if code, body := e.do("POST", path+"/test", admin, `{"text":"x"}`); code != 404 {
				t.Errorf("POST %s/test: %d %s, want 404", path, code, body)
			}
		}
	})
}
