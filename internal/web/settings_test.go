package web_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// TestPrivacySettings: admins edit scrubbing rules and SDK defaults on the
// settings page (errors name the wrong entry), the try-it endpoint scrubs
// a sample with the rules as edited, and the trust page shows what is in
// force. The organisation page links to every project page.
func TestPrivacySettings(t *testing.T) {
	d := newEnv(t, false)
	projects, err := d.db.ListProjects(context.Background(), d.orgA.ID)
	if err != nil || len(projects) != 1 {
		t.Fatalf("projects: %v %v", projects, err)
	}
	base := "/orgs/" + d.orgA.ID + "/projects/" + projects[0].ID
	a := d.login("admin")
	resp, body := a.get(base + "/settings")
	for _, want := range []string{`id="scrubbing"`, `name="det_email" value="on" checked`, `name="rule_pattern"`, `id="try-run"`, `/static/settings.js`, `name="mask_all_text"`, `Save SDK defaults`, `integrity=`} {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Fatalf("settings page lacks %q: %d\n%s", want, resp.StatusCode, body[strings.Index(body, "<main"):])
		}
	}

	form := func(pattern string) url.Values {
		f := url.Values{"rule_name": {"employee-id", ""}, "rule_pattern": {pattern, ""}, "safe_fields": {"order_id\ncontext.ip"},
			"sensitive_fields": {"date_of_birth"}, "replacement": {"[gone]"}}
		for _, det := range []string{"card", "email", "phone", "jwt"} { // everything else off
			f.Set("det_"+det, "on")
		}
		return f
	}
	if resp, body := a.post(base+"/settings/scrub-rules", form("(EMP")); resp.StatusCode != 400 || !strings.Contains(body, `custom_rules[0] &#34;employee-id&#34;: pattern is not valid Go RE2 syntax`) {
		t.Fatalf("invalid rule: %d\n%s", resp.StatusCode, body)
	}

	try := func(b *browser, f url.Values, sample, format string) (int, map[string]any) {
		f.Set("sample", sample)
		f.Set("format", format)
		f.Set("csrf_token", "") // the page's script sends the token as a header
		resp, body := b.post(base+"/settings/scrub-test", f, "X-CSRF-Token", b.csrf)
		var out map[string]any
		json.Unmarshal([]byte(body), &out)
		return resp.StatusCode, out
	}
	code, out := try(a, form(`EMP-\d{6}`), `{"order_id":"EMP-000001","note":"EMP-123456 bob@example.com 10.0.0.1","date_of_birth":"1980-01-01"}`, "json")
	if code != 200 || out["output"] != `{"order_id":"EMP-000001","note":"[gone] [gone] 10.0.0.1","date_of_birth":"[gone]"}` {
		t.Fatalf("try: %d %v", code, out)
	}
	if c, _ := out["counts"].(map[string]any); c["custom:employee-id"] != 1.0 || c["email"] != 1.0 || c["sensitive_field"] != 1.0 {
		t.Errorf("try counts: %v", out["counts"])
	}
	if code, out := try(a, form("(EMP"), "x", "text"); code != 400 || !strings.Contains(out["error"].(map[string]any)["message"].(string), "RE2") {
		t.Errorf("try with a bad rule: %d %v", code, out)
	}
	if code, _ := try(a, form(`EMP-\d{6}`), strings.Repeat("a", 70<<10), "text"); code != 400 && code != 413 {
		t.Errorf("oversized sample: %d", code)
	}
	if resp, _ := a.post(base+"/settings/scrub-test", url.Values{"sample": {"x"}}, "X-CSRF-Token", "forged"); resp.StatusCode != 403 {
		t.Errorf("try without the CSRF token: %d", resp.StatusCode)
	}

	if resp, body := a.post(base+"/settings/scrub-rules", form(`EMP-\d{6}`)); resp.StatusCode != 303 || resp.Header.Get("Location") != base+"/settings?saved=scrubbing#scrubbing" {
		t.Fatalf("save rules: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if _, body := a.get(base + "/settings?saved=scrubbing"); !strings.Contains(body, "Scrubbing rules saved.") {
		t.Error("no confirmation after saving")
	}
	if resp, body := a.post(base+"/settings/sdk", url.Values{"sample_percent": {"150"}}); resp.StatusCode != 400 || !strings.Contains(body, "percentage") {
		t.Fatalf("bad sample rate: %d", resp.StatusCode)
	}
	if resp, body := a.post(base+"/settings/sdk", url.Values{"replay": {"on"}, "sample_percent": {"25"}, "mask_all_text": {"on"}, "console": {"off"}, "network": {"errors"}}); resp.StatusCode != 303 {
		t.Fatalf("save SDK: %d\n%s", resp.StatusCode, body)
	}
	_, body = a.get(base + "/settings")
	for _, want := range []string{`value="employee-id"`, `value="EMP-\d{6}"`, `name="det_ipv4" value="on" >`, `value="[gone]"`, `name="mask_all_text" value="on" checked`, `value="25"`, `<option value="off" selected>off`} {
		if !strings.Contains(body, want) {
			t.Errorf("saved settings not shown: %q", want)
		}
	}

	// Members see the settings read-only and may try rules.
	m := d.login("member")
	_, body = m.get(base + "/settings")
	if !strings.Contains(body, "Only administrators can save rules") || strings.Contains(body, "Save scrubbing rules") || !strings.Contains(body, "<fieldset disabled>") {
		t.Errorf("member: rules must be editable for trying, not savable; SDK defaults read-only")
	}
	if code, _ := try(m, form(`EMP-\d{6}`), "EMP-123456", "text"); code != 200 {
		t.Errorf("member try: %d", code)
	}

	v := d.login("viewer")
	_, body = v.get(base + "/trust")
	for _, want := range []string{"<strong>Turned off</strong>", "<code>ipv4</code>", "<code>employee-id</code>: <code>EMP-\\d{6}</code>", "<code>date_of_birth</code>", "<code>order_id</code>", "<code>[gone]</code>",
		"for at most 25 % of sessions", "<strong>including</strong> elements the page opts in", "Console: <strong>not captured</strong>", "failed requests only"} {
		if !strings.Contains(body, want) {
			t.Errorf("trust page lacks %q", want)
		}
	}
	_, body = v.get("/orgs/" + d.orgA.ID)
	for _, page := range []string{"sessions", "events", "settings", "trust"} {
		if !strings.Contains(body, `href="`+base+"/"+page+`"`) {
			t.Errorf("org page has no link to %s", page)
		}
	}
}
