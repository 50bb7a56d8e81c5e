package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/blob/local"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/store"
)

// lifecycleService is the real lifecycle service on the test database and
// a private blob directory.
func lifecycleService(t testing.TB, db *store.DB, m *keyring.Master) *lifecycle.Service {
	t.Helper()
	bl, err := local.New(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return &lifecycle.Service{Store: db, Blobs: bl, Master: m, Audit: &audit.Log{Store: db}}
}

func auditActions(t *testing.T, e *env) string {
	t.Helper()
	var out []string
	(&audit.Log{Store: e.db}).Each(context.Background(), "", func(a *veil.AuditEntry) error {
		out = append(out, a.Action+" "+a.ObjectID)
		return nil
	})
	return strings.Join(out, "\n")
}

func TestLifecycleAPI(t *testing.T) {
	e := newEnv(t)
	a, b := e.fix.Orgs["A"], e.fix.Orgs["B"]
	admin := e.fix.Tokens["admin"]
	proj := "/api/v1/orgs/" + a.Org.ID + "/projects/" + a.Project.ID

	// Another tenant's session named under our own project is not found.
	if st, body := e.do("DELETE", proj+"/sessions/"+b.Session.ID, admin, ""); st != 404 {
		t.Fatalf("B's session under A's project: %d %s", st, body)
	}
	st, body := e.do("DELETE", proj+"/sessions/"+a.Session.ID, admin, "")
	if st != 200 || !strings.Contains(body, `"session_id":"`+a.Session.ID+`"`) {
		t.Fatalf("delete: %d %s", st, body)
	}
	if st, _ := e.do("DELETE", proj+"/sessions/"+a.Session.ID, admin, ""); st != 404 {
		t.Fatalf("second delete: %d", st)
	}
	if !strings.Contains(auditActions(t, e), lifecycle.ActionSessionDelete+" "+a.Session.ID) {
		t.Fatalf("deletion not audit-logged:\n%s", auditActions(t, e))
	}

	// Erasure: a certificate without the user id.
	st, body = e.do("POST", proj+"/erasures", admin, `{"user_id":"alice@example.com"}`)
	cert := decodeJSON[lifecycle.Certificate](t, body)
	if st != 200 || cert.ProjectID != a.Project.ID || !strings.HasPrefix(cert.Subject, "user_id:") || strings.Contains(body, "alice") ||
		!strings.HasPrefix(cert.RequestedBy, "token:") || cert.Compaction != lifecycle.CompactionNone {
		t.Fatalf("erasure: %d %s", st, body)
	}
	for _, bad := range []string{`{}`, `{"user_id":""}`, `{"user_id":"` + strings.Repeat("x", 600) + `"}`, `{"user":"x"}`} {
		if st, body := e.do("POST", proj+"/erasures", admin, bad); st != 400 {
			t.Fatalf("erasure with %s: %d %s", bad, st, body)
		}
	}

	// Export: the zip archive itself.
	req, _ := http.NewRequest("POST", e.srv.URL+proj+"/exports", strings.NewReader(`{"user_id":"alice@example.com"}`))
	req.Header.Set("Authorization", "Bearer "+e.fix.Tokens["member"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	zb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header)
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "events.jsonl,manifest.json" {
		t.Fatalf("export files: %v", names)
	}
	if acts := auditActions(t, e); !strings.Contains(acts, lifecycle.ActionUserErase) || !strings.Contains(acts, audit.ActionDataExport) {
		t.Fatalf("erasure/export not audit-logged:\n%s", acts)
	}

	// Retention: a preview stores nothing; a PUT stores and says so.
	st, body = e.do("PUT", proj+"/retention?preview=true", admin, `{"replay_days":7,"event_days":null}`)
	imp := decodeJSON[lifecycle.RetentionImpact](t, body)
	if st != 200 || imp.Applied || len(imp.Projects) != 1 || imp.Projects[0].Policy.ReplayDays != 7 {
		t.Fatalf("preview: %d %s", st, body)
	}
	st, body = e.do("GET", proj+"/retention", admin, "")
	if imp := decodeJSON[lifecycle.RetentionImpact](t, body); st != 200 || imp.Setting.ReplayDays != nil || imp.Projects[0].Policy.ReplayDays != 0 {
		t.Fatalf("preview changed the setting: %s", body)
	}
	orgR := "/api/v1/orgs/" + a.Org.ID + "/retention"
	if st, body := e.do("PUT", orgR, admin, `{"replay_days":90,"event_days":30}`); st != 200 || !strings.Contains(body, `"applied":true`) {
		t.Fatalf("org put: %d %s", st, body)
	}
	if st, body := e.do("PUT", proj+"/retention", admin, `{"replay_days":7,"event_days":null}`); st != 200 || !strings.Contains(body, `"applied":true`) {
		t.Fatalf("put: %d %s", st, body)
	}
	st, body = e.do("GET", proj+"/retention", admin, "")
	pol := decodeJSON[lifecycle.RetentionImpact](t, body).Projects[0].Policy
	if st != 200 || pol.ReplayDays != 7 || pol.ReplayFrom != "project" || pol.EventDays != 30 || pol.EventFrom != "org" {
		t.Fatalf("policy after put: %d %s", st, body)
	}
	for _, bad := range []string{`{"replay_days":-1}`, `{"replay_days":99999999}`, `{"replay_days":"7"}`} {
		if st, body := e.do("PUT", proj+"/retention", admin, bad); st != 400 {
			t.Fatalf("put %s: %d %s", bad, st, body)
		}
	}
	if st, _ := e.do("PUT", proj+"/retention?preview=maybe", admin, `{}`); st != 400 {
		t.Fatalf("preview=maybe: %d", st)
	}
	if !strings.Contains(auditActions(t, e), lifecycle.ActionRetentionSet) {
		t.Fatal("retention change not audit-logged")
	}
}
