package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

// testProjectSettings: settings start empty at version 0; each put bumps
// the version and keeps the other column; a missing project is ENOTFOUND;
// deleting the project deletes its settings.
func testProjectSettings(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	org := MustCreateOrg(t, db, "acme")
	p := MustCreateProject(t, db, org.ID, "web")

	s, err := db.FindProjectSettings(ctx, p.ID)
	if err != nil || s.Version != 0 || s.ScrubRules != "" || s.SDK != "" || !s.UpdatedAt.IsZero() {
		t.Fatalf("fresh settings = %+v, %v", s, err)
	}
	if v, err := db.PutProjectScrubRules(ctx, p.ID, `{"disabled":["ipv4"]}`); err != nil || v != 1 {
		t.Fatalf("put rules: %d, %v", v, err)
	}
	clk.Advance(time.Minute)
	if v, err := db.PutProjectSDKSettings(ctx, p.ID, `{"mask_all_text":true}`); err != nil || v != 2 {
		t.Fatalf("put sdk: %d, %v", v, err)
	}
	if v, err := db.PutProjectScrubRules(ctx, p.ID, `{"disabled":["ipv6"]}`); err != nil || v != 3 {
		t.Fatalf("put rules again: %d, %v", v, err)
	}
	s, err = db.FindProjectSettings(ctx, p.ID)
	if err != nil || s.Version != 3 || s.ScrubRules != `{"disabled":["ipv6"]}` || s.SDK != `{"mask_all_text":true}` || !s.UpdatedAt.Equal(now(clk)) {
		t.Fatalf("settings = %+v, %v", s, err)
	}
	if v, err := db.ProjectSettingsVersion(ctx, p.ID); err != nil || v != 3 {
		t.Fatalf("version = %d, %v", v, err)
	}
	if v, err := db.ProjectSettingsVersion(ctx, "prj_missing"); err != nil || v != 0 {
		t.Fatalf("version of a project without settings = %d, %v", v, err)
	}
	_, err = db.PutProjectScrubRules(ctx, "prj_missing", "{}")
	wantCode(t, err, veil.ENOTFOUND)

	if err := db.DeleteProject(ctx, org.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	if v, err := db.ProjectSettingsVersion(ctx, p.ID); err != nil || v != 0 {
		t.Fatalf("settings survived their project: version %d, %v", v, err)
	}
}
