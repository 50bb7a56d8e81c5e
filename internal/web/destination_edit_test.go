package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/testenv"
)

// editEnv is the lifecycle env with an S3 destination of project A on a
// real S3 server (versitygw) and one of project B.
type editEnv struct {
	*lifecycleEnv
	bucket, moved, endpoint, access, secret string
	page, other                             string // paths of the destinations' pages
	id                                      string
}

func newEditEnv(t *testing.T) *editEnv {
	t.Helper()
	ee := &editEnv{}
	ee.bucket, ee.endpoint, ee.access, ee.secret = testenv.S3Bucket(t)
	ee.moved, _, _, _ = testenv.S3Bucket(t)
	ee.lifecycleEnv = newLifecycleEnv(t)
	ee.withDestinations(true)
	ctx := context.Background()
	svc := &destination.Service{Store: ee.db, Master: ee.master, AllowPrivate: true}
	d, err := svc.Create(ctx, ee.pa.ID, destination.Input{Name: "On-prem MinIO", Kind: "s3", Mode: destination.ModeCopy,
		S3:      &destination.S3Config{Bucket: ee.bucket, Prefix: "replays", Region: testenv.S3Region, Endpoint: ee.endpoint, PathStyle: true},
		Secrets: destination.Secrets{AccessKeyID: ee.access, SecretAccessKey: ee.secret}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := svc.Create(ctx, ee.pb.ID, destination.Input{Kind: "s3", S3: &destination.S3Config{Bucket: "bucket-b", Endpoint: "http://127.0.0.1:1"},
		Secrets: destination.Secrets{AccessKeyID: "AK", SecretAccessKey: "SK"}})
	if err != nil {
		t.Fatal(err)
	}
	ee.id = d.ID
	ee.page = "/orgs/" + ee.orgA.ID + "/projects/" + ee.pa.ID + "/destinations/" + d.ID
	ee.other = other.ID
	return ee
}

// TestDestinationEdit drives the edit form over HTTP: admins only, CSRF,
// secret fields never filled, a wrong secret refused by the probe with its
// error (and the typed values kept, the secret not), a move to another
// bucket saved with the stored keys, another tenant's destination 404, and
// the audit entry naming fields, never values.
func TestDestinationEdit(t *testing.T) {
	ee := newEditEnv(t)
	ctx := context.Background()
	const wrong = "wrong-Secret-71c3"
	form := func(bucket, secret string) url.Values {
		return url.Values{"name": {"On-prem MinIO"}, "bucket": {bucket}, "prefix": {"replays"}, "region": {testenv.S3Region},
			"endpoint": {ee.endpoint}, "path_style": {"1"}, "sse": {"none"}, "secret_access_key": {secret}, "verify": {"1"}}
	}
	member, admin := ee.login("member"), ee.login("admin")
	if _, body := member.get(ee.page); strings.Contains(body, `action="`+ee.page+`/edit"`) {
		t.Fatal("a member sees the edit form")
	}
	if resp, _ := member.post(ee.page+"/edit", form(ee.moved, "")); resp.StatusCode != 403 {
		t.Fatalf("member edit: %d", resp.StatusCode)
	}
	_, body := admin.get(ee.page + "?edit=1")
	for _, want := range []string{`<details class="add" id="edit" open>`, `value="` + ee.bucket + `"`,
		`name="secret_access_key" type="password" autocomplete="new-password" placeholder="leave empty to keep">`,
		`Kind (s3) and mode (copy) cannot be changed`, `name="verify" type="checkbox" value="1" checked>`} {
		if !strings.Contains(body, want) {
			t.Fatalf("edit form lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, ee.secret) || strings.Contains(body, ee.access) {
		t.Fatal("the page renders a credential")
	}

	tests := []struct {
		name   string
		path   string
		form   url.Values
		hdr    []string
		status int
		want   []string
	}{
		{"forged token", ee.page + "/edit", url.Values{"csrf_token": {"forged"}, "bucket": {ee.moved}}, nil, 403, nil},
		{"cross-site", ee.page + "/edit", form(ee.moved, ""), []string{"Sec-Fetch-Site", "cross-site"}, 403, nil},
		{"wrong secret", ee.page + "/edit", form(ee.moved, wrong), nil, 400,
			[]string{`id="edit-error"`, "Not saved", "SignatureDoesNotMatch", `value="` + ee.moved + `"`, `id="edit" open`}},
		{"invalid bucket", ee.page + "/edit", form("Bad Bucket", ""), nil, 400, []string{"Bucket must be a valid S3 bucket name"}},
		{"other tenant under ours", "/orgs/" + ee.orgA.ID + "/projects/" + ee.pa.ID + "/destinations/" + ee.other + "/edit", form(ee.moved, ""), nil, 404, nil},
		{"other tenant under theirs", "/orgs/" + ee.orgB.ID + "/projects/" + ee.pb.ID + "/destinations/" + ee.other + "/edit", form(ee.moved, ""), nil, 404, nil},
		{"move", ee.page + "/edit", form(ee.moved, ""), nil, 303, nil},
		{"same again", ee.page + "/edit", form(ee.moved, ""), nil, 303, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := admin.post(tt.path, tt.form, tt.hdr...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("answer lacks %s:\n%s", w, body)
				}
			}
			if strings.Contains(body, wrong) || strings.Contains(body, ee.secret) {
				t.Fatal("the answer renders a secret")
			}
		})
	}
	if _, body := admin.get(ee.page + "?done=updated"); !strings.Contains(body, "Destination saved") || !strings.Contains(body, "<code>"+ee.moved+"</code>") ||
		!strings.Contains(body, "Settings changed") {
		t.Fatalf("page after the move:\n%s", body)
	}
	if d, _ := ee.db.FindDestination(ctx, ee.pb.ID, ee.other); !strings.Contains(d.Config, "bucket-b") {
		t.Fatalf("the other tenant's destination changed: %s", d.Config)
	}
	var got []string
	entries, _ := ee.db.ListAudit(ctx, veil.AuditFilter{OrgID: ee.orgA.ID, Limit: 100})
	for _, en := range entries {
		if en.Action == "destination.update" {
			got = append(got, en.ObjectID+" "+en.Details["changed"]+" verified="+en.Details["verified"])
		}
		for _, v := range en.Details {
			if strings.Contains(v, wrong) || strings.Contains(v, ee.secret) {
				t.Fatalf("secret in audit: %+v", en)
			}
		}
	}
	if strings.Join(got, ";") != ee.id+" s3.bucket verified=true" {
		t.Fatalf("destination.update entries: %q", got)
	}
}

// TestDestinationEditBrowser submits the edit form in Chromium with a
// wrong secret: the page comes back with the probe's error in the form
// (docs/screenshots/destination-edit.png with VEIL_SCREENSHOTS).
func TestDestinationEditBrowser(t *testing.T) {
	ee := newEditEnv(t)
	res := runPlayer(t, &dataEnv{env: ee.env}, "admin", []map[string]any{
		{"name": "edit", "path": ee.page + "?edit=1", "fill": map[string]string{"#e-bucket": ee.moved, "#e-sk": "wrong-secret"},
			"click": "#dest-save", "waitFor": "#edit-error", "read": "#edit-error", "shot": "destination-edit.png"},
	})
	r := res["edit"]
	if !strings.Contains(r.Text, "Not saved") || !strings.Contains(r.Text, "SignatureDoesNotMatch") {
		t.Fatalf("edit in the browser: %+v", r)
	}
	if d, _ := ee.db.FindDestination(context.Background(), ee.pa.ID, ee.id); strings.Contains(d.Config, ee.moved) {
		t.Fatal("a refused edit was saved")
	}
}
