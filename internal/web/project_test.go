package web_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/sdk"
)

func TestProjectSettings(t *testing.T) {
	d := newDataEnv(t, testRecording)
	base := "/orgs/" + d.orgA.ID + "/projects/" + d.project.ID
	v := d.login("viewer")
	if resp, _ := v.get(base + "/settings"); resp.StatusCode != 403 {
		t.Fatalf("viewer on settings: %d", resp.StatusCode)
	}
	b := d.login("member")
	resp, body := b.get(base + "/settings")
	// html/template writes '+' in the base64 hash as &#43; (the same text once rendered).
	if resp.StatusCode != 200 || !strings.Contains(html.UnescapeString(body), sdk.Integrity()) || !strings.Contains(body, "veil_wk_YOUR_BROWSER_KEY") {
		t.Fatalf("settings: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := b.post(base+"/keys", url.Values{"kind": {"browser"}, "origins": {"ftp://nope"}}); resp.StatusCode != 400 {
		t.Fatalf("bad origin: %d\n%s", resp.StatusCode, body)
	}
	resp, body = b.post(base+"/keys", url.Values{"kind": {"browser"}, "origins": {"https://shop.example.com/"}})
	m := regexp.MustCompile(`class="secret newkey">(veil_wk_[^<]+)<`).FindStringSubmatch(body)
	if resp.StatusCode != 201 || m == nil || !strings.Contains(body, `data-key=&#34;`+m[1]+`&#34;`) {
		t.Fatalf("create: %d %v\n%s", resp.StatusCode, m, body[strings.Index(body, "<main"):])
	}
	ctx := context.Background()
	keys, _ := d.db.ListKeys(ctx, d.project.ID)
	if len(keys) != 1 || keys[0].Origins[0] != "https://shop.example.com" {
		t.Fatalf("keys: %+v", keys)
	}
	k := keys[0]
	if resp, body := b.post(base+"/keys/"+k.ID+"/origins", url.Values{"origins": {"https://a.example.com https://b.example.com"}}); resp.StatusCode != 303 {
		t.Fatalf("origins: %d\n%s", resp.StatusCode, body)
	}
	if k, _ = d.db.FindKey(ctx, d.project.ID, k.ID); len(k.Origins) != 2 {
		t.Errorf("origins not saved: %v", k.Origins)
	}
	resp, body = b.post(base+"/keys/"+k.ID+"/rotate", url.Values{"overlap": {"24h"}})
	if resp.StatusCode != 201 || !strings.Contains(body, "retiring") {
		t.Fatalf("rotate: %d\n%s", resp.StatusCode, body)
	}
	keys, _ = d.db.ListKeys(ctx, d.project.ID)
	var fresh *veil.WriteKey
	for _, x := range keys {
		if x.ID != k.ID {
			fresh = x
		}
	}
	if len(keys) != 2 || fresh == nil || len(fresh.Origins) != 2 {
		t.Fatalf("after rotate: %+v", keys)
	}
	if resp, _ := b.post(base+"/keys/"+fresh.ID+"/revoke", nil); resp.StatusCode != 303 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if fresh, _ = d.db.FindKey(ctx, d.project.ID, fresh.ID); !fresh.Revoked() {
		t.Error("not revoked")
	}
	log, _ := d.db.ListAudit(ctx, veil.AuditFilter{OrgID: d.orgA.ID, Limit: 1000})
	var acts []string
	for _, e := range log {
		if strings.HasPrefix(e.Action, "key.") {
			acts = append(acts, e.Action)
		}
	}
	if strings.Join(acts, ",") != "key.create,key.origins_change,key.rotate,key.revoke" {
		t.Errorf("audit: %v", acts)
	}
}

func TestTrustPage(t *testing.T) {
	d := newDataEnv(t, testRecording)
	base := "/orgs/" + d.orgA.ID + "/projects/" + d.project.ID
	v := d.login("viewer")
	for _, s := range []string{"ses_001", "ses_002", "ses_001"} {
		if resp, _ := v.get(base + "/sessions/" + s + "/replay.ndjson"); resp.StatusCode != 200 {
			t.Fatalf("replay: %d", resp.StatusCode)
		}
	}
	resp, body := v.get(base + "/trust")
	if resp.StatusCode != 200 || !strings.Contains(body, "Only administrators") || strings.Contains(body, "<td>viewer@example.com</td>") {
		t.Fatalf("trust as viewer: %d\n%s", resp.StatusCode, body)
	}
	a := d.login("admin")
	_, body = a.get(base + "/trust")
	for _, want := range []string{"<td>viewer@example.com</td><td>3</td><td>2</td>", d.master.ID(), "SQLite, test", "local directory, test", "<code>email</code>", "<code>password</code>"} {
		if !strings.Contains(body, want) {
			t.Errorf("trust page lacks %q", want)
		}
	}
}
