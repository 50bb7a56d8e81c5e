package web_test

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/blob/local"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/web"
)

// lifecycleEnv is the dashboard with a real lifecycle service, a project
// with a real data key in each organisation and one session in each.
type lifecycleEnv struct {
	*env
	pa, pb *veil.Project
	sa, sb *veil.Session
	master *keyring.Master // wraps pa's and pb's keys
}

func newLifecycleEnv(t *testing.T) *lifecycleEnv {
	t.Helper()
	e := newEnv(t, false)
	ctx := context.Background()
	m := keyring.NewMaster()
	le := &lifecycleEnv{env: e, master: m}
	for _, x := range []struct {
		org  *veil.Org
		p    **veil.Project
		s    **veil.Session
		name string
	}{{e.orgA, &le.pa, &le.sa, "shop-a"}, {e.orgB, &le.pb, &le.sb, "shop-b"}} {
		p := &veil.Project{ID: veil.NewID("prj"), OrgID: x.org.ID, Name: x.name}
		var err error
		if p.WrappedKey, err = m.Wrap(keyring.NewDataKey(), provision.ProjectKeyAAD(x.org.ID, p.ID)); err != nil {
			t.Fatal(err)
		}
		if err := e.db.CreateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		s := &veil.Session{ProjectID: p.ID, ID: "session-" + x.name, WrappedKey: []byte("wrapped")}
		if err := e.db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		*x.p, *x.s = p, s
	}
	bl, err := local.New(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	e.h = web.New(web.Options{
		Store:     e.db,
		Sessions:  &auth.Sessions{Store: e.db, Now: e.clk.Now},
		Login:     &auth.Login{Store: e.db, Params: fastParams, Now: e.clk.Now},
		MFA:       e.mfa,
		Audit:     e.log,
		Key:       e.key,
		Origin:    e.base,
		Lifecycle: &lifecycle.Service{Store: e.db, Blobs: bl, Master: m, Audit: e.log},
	})
	return le
}

func (le *lifecycleEnv) audited(action string) bool {
	found := false
	(&audit.Log{Store: le.db}).Each(context.Background(), "", func(a *veil.AuditEntry) error {
		found = found || a.Action == action
		return nil
	})
	return found
}

func TestDeleteRecordingPage(t *testing.T) {
	le := newLifecycleEnv(t)
	base := "/orgs/" + le.orgA.ID + "/projects/" + le.pa.ID
	sess := base + "/sessions/" + le.sa.ID

	viewer := le.login("viewer")
	if _, body := viewer.get(sess); strings.Contains(body, "Delete recording") {
		t.Fatal("a viewer is offered the delete button")
	}
	if resp, _ := viewer.post(sess+"/delete", url.Values{"confirm": {"yes"}}); resp.StatusCode != 403 {
		t.Fatalf("viewer delete: %d", resp.StatusCode)
	}
	admin := le.login("admin")
	if _, body := admin.get(sess); !strings.Contains(body, "Delete recording") {
		t.Fatalf("no delete button for an admin:\n%s", body)
	}
	if resp, _ := admin.post(sess+"/delete", nil); resp.StatusCode != 400 {
		t.Fatalf("delete without confirmation: %d", resp.StatusCode)
	}
	// Another tenant's session, named under our own project or theirs: 404.
	for _, p := range []string{base + "/sessions/" + le.sb.ID + "/delete",
		"/orgs/" + le.orgB.ID + "/projects/" + le.pb.ID + "/sessions/" + le.sb.ID + "/delete"} {
		if resp, _ := admin.post(p, url.Values{"confirm": {"yes"}}); resp.StatusCode != 404 {
			t.Fatalf("POST %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := admin.post(sess+"/delete", url.Values{"confirm": {"yes"}}); resp.StatusCode != 303 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if _, err := le.db.FindSession(context.Background(), le.pa.ID, le.sa.ID); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("session still there: %v", err)
	}
	if _, err := le.db.FindSession(context.Background(), le.pb.ID, le.sb.ID); err != nil {
		t.Fatalf("the other tenant's session is gone: %v", err)
	}
	if !le.audited(lifecycle.ActionSessionDelete) {
		t.Fatal("deletion not audit-logged")
	}
	if resp, _ := admin.get(sess); resp.StatusCode != 404 {
		t.Fatalf("deleted session page: %d", resp.StatusCode)
	}
}

func TestRetentionForm(t *testing.T) {
	le := newLifecycleEnv(t)
	settings := "/orgs/" + le.orgA.ID + "/projects/" + le.pa.ID + "/settings"
	member := le.login("member")
	if _, body := member.get(settings); !strings.Contains(body, "Data retention") || strings.Contains(body, "Preview what would be deleted") {
		t.Fatalf("member's settings page: retention shown read-only?\n%s", body)
	}
	admin := le.login("admin")
	_, body := admin.get(settings + "?preview=1&replays_days=3&events_days=")
	if !strings.Contains(body, "Preview, nothing saved yet") || !strings.Contains(body, "replays kept 3 day(s) (project)") {
		t.Fatalf("preview:\n%s", body)
	}
	if r, _ := le.db.FindRetention(context.Background(), le.orgA.ID, le.pa.ID); r != nil {
		t.Fatal("the preview stored the setting")
	}
	if resp, _ := admin.get(settings + "?preview=1&replays_days=-3"); resp.StatusCode != 400 {
		t.Fatalf("negative days: %d", resp.StatusCode)
	}
	if resp, _ := member.post("/orgs/"+le.orgA.ID+"/projects/"+le.pa.ID+"/retention", url.Values{"replays_days": {"3"}}); resp.StatusCode != 403 {
		t.Fatalf("member saves retention: %d", resp.StatusCode)
	}
	if resp, body := admin.post("/orgs/"+le.orgA.ID+"/projects/"+le.pa.ID+"/retention", url.Values{"replays_days": {"3"}, "events_days": {""}}); resp.StatusCode != 303 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	r, err := le.db.FindRetention(context.Background(), le.orgA.ID, le.pa.ID)
	if err != nil || r.ReplayDays == nil || *r.ReplayDays != 3 || r.EventDays != nil {
		t.Fatalf("stored: %+v %v", r, err)
	}
	if resp, _ := admin.post("/orgs/"+le.orgA.ID+"/projects/"+le.pb.ID+"/retention", url.Values{"replays_days": {"3"}}); resp.StatusCode != 404 {
		t.Fatalf("another tenant's project: %d", resp.StatusCode)
	}
	if !le.audited(lifecycle.ActionRetentionSet) {
		t.Fatal("retention change not audit-logged")
	}
}

func TestEraseExportForms(t *testing.T) {
	le := newLifecycleEnv(t)
	base := "/orgs/" + le.orgA.ID + "/projects/" + le.pa.ID
	member := le.login("member")
	_, body := member.get(base + "/settings")
	if !strings.Contains(body, "Download their data") || strings.Contains(body, "Erase this user") {
		t.Fatalf("member's forms:\n%s", body)
	}
	resp, zip := member.post(base+"/export-user", url.Values{"user_id": {"alice@example.com"}})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(zip, "PK") {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header)
	}
	if resp, _ := member.post(base+"/erase", url.Values{"user_id": {"alice@example.com"}, "confirm": {"yes"}}); resp.StatusCode != 403 {
		t.Fatalf("member erases: %d", resp.StatusCode)
	}
	admin := le.login("admin")
	if resp, _ := admin.post(base+"/erase", url.Values{"user_id": {"alice@example.com"}}); resp.StatusCode != 400 {
		t.Fatalf("erase without confirmation: %d", resp.StatusCode)
	}
	if resp, _ := admin.post("/orgs/"+le.orgA.ID+"/projects/"+le.pb.ID+"/erase", url.Values{"user_id": {"x"}, "confirm": {"yes"}}); resp.StatusCode != 404 {
		t.Fatalf("erase in another tenant's project: %d", resp.StatusCode)
	}
	resp, body = admin.post(base+"/erase", url.Values{"user_id": {"alice@example.com"}, "confirm": {"yes"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "Erasure certificate") || !strings.Contains(body, "user_id:") {
		t.Fatalf("erase: %d\n%s", resp.StatusCode, body)
	}
	if !le.audited(lifecycle.ActionUserErase) || !le.audited(audit.ActionDataExport) {
		t.Fatal("erasure or export not audit-logged")
	}
}

// TestOrgRetentionPage: the organisation default retention on the org
// page — read by everyone, previewed per project (overrides kept) before
// an admin saves it, audit-logged, CSRF-protected and tenant-scoped.
func TestOrgRetentionPage(t *testing.T) {
	le := newLifecycleEnv(t)
	ctx := context.Background()
	org := "/orgs/" + le.orgA.ID
	// A second project of org A keeps its replays forever by its own setting.
	keep := &veil.Project{ID: veil.NewID("prj"), OrgID: le.orgA.ID, Name: "archive"}
	var err error
	if keep.WrappedKey, err = le.master.Wrap(keyring.NewDataKey(), provision.ProjectKeyAAD(le.orgA.ID, keep.ID)); err != nil {
		t.Fatal(err)
	}
	if err := le.db.CreateProject(ctx, keep); err != nil {
		t.Fatal(err)
	}
	// A recording two months old in each project: only pa's goes.
	old := time.Now().Add(-60 * 24 * time.Hour)
	for _, pid := range []string{le.pa.ID, keep.ID} {
		if err := le.db.CreateSession(ctx, &veil.Session{ProjectID: pid, ID: "session-old-" + pid, WrappedKey: []byte("w"), FirstSeen: old, LastSeen: old}); err != nil {
			t.Fatal(err)
		}
	}
	zero := 0
	if err := le.db.SetRetention(ctx, &store.Retention{OrgID: le.orgA.ID, ProjectID: keep.ID, ReplayDays: &zero}); err != nil {
		t.Fatal(err)
	}

	viewer := le.login("viewer")
	if _, body := viewer.get(org); !strings.Contains(body, "Default data retention") || !strings.Contains(body, "not set (forever)") ||
		strings.Contains(body, "Preview what would be deleted") {
		t.Fatalf("viewer's org page:\n%s", body)
	}
	if resp, _ := viewer.post(org+"/retention", url.Values{"replays_days": {"30"}}); resp.StatusCode != 403 {
		t.Fatalf("viewer saves: %d", resp.StatusCode)
	}

	admin := le.login("admin")
	_, body := admin.get(org + "?preview=1&replays_days=30&events_days=")
	for _, want := range []string{"Preview, nothing saved yet", "replays kept 30 day(s)", "the next run deletes <strong>1 session(s)</strong>",
		"Projects with their own setting keep it", `name="replays_days" value="30"`, "Save this default"} {
		if !strings.Contains(body, want) {
			t.Fatalf("preview without %q:\n%s", want, body)
		}
	}
	if r, _ := le.db.FindRetention(ctx, le.orgA.ID, ""); r != nil {
		t.Fatalf("the preview saved %+v", r)
	}
	if resp, _ := admin.post(org+"/retention", url.Values{"replays_days": {"-1"}}); resp.StatusCode != 400 {
		t.Fatalf("negative days: %d", resp.StatusCode)
	}
	if resp, _ := admin.post(org+"/retention", url.Values{"csrf_token": {"forged"}, "replays_days": {"30"}}); resp.StatusCode != 403 {
		t.Fatalf("forged CSRF token: %d", resp.StatusCode)
	}
	// Another organisation's default: 404, unchanged.
	if resp, _ := admin.post("/orgs/"+le.orgB.ID+"/retention", url.Values{"replays_days": {"1"}}); resp.StatusCode != 404 {
		t.Fatalf("org B's retention: %d", resp.StatusCode)
	}
	if r, _ := le.db.FindRetention(ctx, le.orgB.ID, ""); r != nil {
		t.Fatalf("org B's default changed: %+v", r)
	}

	resp, _ := admin.post(org+"/retention", url.Values{"replays_days": {"30"}, "events_days": {""}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != org+"?saved=retention#org-retention" {
		t.Fatalf("save: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	r, err := le.db.FindRetention(ctx, le.orgA.ID, "")
	if err != nil || r.ReplayDays == nil || *r.ReplayDays != 30 || r.EventDays != nil {
		t.Fatalf("stored default: %+v %v", r, err)
	}
	_, body = viewer.get(org + "?saved=retention")
	if !strings.Contains(body, "Default retention saved") || !strings.Contains(body, "replays kept <strong>30 day(s)</strong>") ||
		!strings.Contains(body, "30 day(s) (org)") || !strings.Contains(body, "forever (project)") {
		t.Fatalf("org page after saving:\n%s", body)
	}
	if !le.audited(lifecycle.ActionRetentionSet) {
		t.Fatal("the change is not audit-logged")
	}
}
