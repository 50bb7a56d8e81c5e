package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/destination"
)

// TestDestinations_Update edits org A's destination (an S3 destination on
// a closed port) through PATCH: changes are saved and named, secrets are
// never echoed (answer, GET, audit), refusals are JSON errors, verify
// refuses settings that do not work, and org B's destination is 404.
func TestDestinations_Update(t *testing.T) {
	e := newEnv(t)
	a, b := e.fix.Orgs["A"], e.fix.Orgs["B"]
	base := "/api/v1/orgs/" + a.Org.ID + "/projects/" + a.Project.ID + "/destinations/"
	admin := e.fix.Tokens["admin"]
	const secret = "rotated-Secret-9f2c"

	tests := []struct {
		name   string
		path   string
		token  string
		body   string
		status int
		want   []string // in the answer
	}{
		{"rotate secret and move", base + a.Dest.ID, admin, `{"name":"lake","s3":{"bucket":"moved-bucket","prefix":"veil"},"secrets":{"secret_access_key":"` + secret + `"}}`,
			200, []string{`"changed":["name","s3.bucket","s3.prefix","secrets.secret_access_key"]`, `"bucket":"moved-bucket"`, `"updated_at":`}},
		{"nothing changed", base + a.Dest.ID, admin, `{"name":"lake"}`, 200, []string{`"changed":[]`}},
		{"mode", base + a.Dest.ID, admin, `{"mode":"do_not_store"}`, 400, []string{`"code":"invalid"`, "mode of a destination cannot be changed"}},
		{"kind", base + a.Dest.ID, admin, `{"kind":"sftp"}`, 400, []string{"kind of a destination cannot be changed"}},
		{"bad bucket", base + a.Dest.ID, admin, `{"s3":{"bucket":"A"}}`, 400, []string{"Bucket must be"}},
		{"unknown field", base + a.Dest.ID, admin, `{"bukket":"x"}`, 400, []string{`"code":"invalid"`}},
		{"verify fails", base + a.Dest.ID, admin, `{"s3":{"prefix":"other"},"verify":true}`, 400, []string{"Not saved", "connection refused"}},
		{"member", base + a.Dest.ID, e.fix.Tokens["member"], `{"name":"x"}`, 403, nil},
		{"other tenant's id", base + b.Dest.ID, admin, `{"name":"x"}`, 404, []string{`"code":"not_found"`}},
		{"other tenant's token", base + a.Dest.ID, e.fix.Tokens["B"], `{"name":"x"}`, 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.do("PATCH", tt.path, tt.token, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("answer lacks %s: %s", w, body)
				}
			}
			if strings.Contains(body, secret) || strings.Contains(body, `"SK"`) {
				t.Fatalf("answer echoes a secret: %s", body)
			}
		})
	}
	status, body := e.do("GET", base+a.Dest.ID, admin, "")
	v := decodeJSON[destination.View](t, body)
	if status != 200 || v.Name != "lake" || v.S3.Bucket != "moved-bucket" || v.S3.Prefix != "veil" || v.Mode != a.Dest.Mode ||
		strings.Contains(body, secret) {
		t.Fatalf("after the edits: %d %s", status, body)
	}
	if _, body := e.do("GET", "/api/v1/orgs/"+b.Org.ID+"/projects/"+b.Project.ID+"/destinations/"+b.Dest.ID, e.fix.Tokens["B"], ""); strings.Contains(body, "lake") {
		t.Fatalf("org B's destination changed: %s", body)
	}
	es, err := e.db.ListAudit(context.Background(), veil.AuditFilter{OrgID: a.Org.ID})
	if err != nil {
		t.Fatal(err)
	}
	var updates []string
	for _, en := range es {
		if en.Action == "destination.update" {
			updates = append(updates, en.Details["changed"]+" verified="+en.Details["verified"])
		}
		for _, v := range en.Details {
			if strings.Contains(v, secret) {
				t.Fatalf("secret in audit: %+v", en)
			}
		}
	}
	if strings.Join(updates, ";") != "name,s3.bucket,s3.prefix,secrets.secret_access_key verified=false" {
		t.Fatalf("destination.update entries: %q", updates)
	}
}
