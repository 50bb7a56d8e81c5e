package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

func testMigrate(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db := open(t)
		if d := db.Dialect(); d != store.SQLite && d != store.Postgres {
			t.Fatalf("Dialect() = %q", d)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		pending, err := db.Pending(ctx)
		if err != nil || len(pending) == 0 || pending[0] != "0001_init.sql" {
			t.Fatalf("Pending on a fresh db = %v, %v; want 0001_init.sql first", pending, err)
		}
		applied, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(pending, applied); diff != "" {
			t.Fatalf("Migrate applied (-pending +applied):\n%s", diff)
		}
		again, err := db.Migrate(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("second Migrate = %v, %v; want nothing applied", again, err)
		}
		if p, err := db.Pending(ctx); err != nil || len(p) != 0 {
			t.Fatalf("Pending after Migrate = %v, %v", p, err)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		MigrateConcurrently(t, open(t))
	})
}

func testOrg(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	acme := MustCreateOrg(t, db, "acme")
	if !strings.HasPrefix(acme.ID, "org_") || !acme.CreatedAt.Equal(now(clk)) || acme.CreatedAt.Location() != time.UTC {
		t.Fatalf("created org = %+v; want org_ id and CreatedAt %v UTC", acme, now(clk))
	}

	t.Run("Create", func(t *testing.T) {
		tests := []struct {
			name string
			org  veil.Org
			want string
		}{
			{"OK", veil.Org{Name: "globex"}, ""},
			{"ExplicitID", veil.Org{ID: "org_explicit", Name: "initech"}, ""},
			{"ErrNameRequired", veil.Org{Name: "  "}, veil.EINVALID},
			{"ErrDuplicateName", veil.Org{Name: "acme"}, veil.ECONFLICT},
			{"ErrDuplicateID", veil.Org{ID: acme.ID, Name: "other"}, veil.ECONFLICT},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				o := tt.org
				wantCode(t, db.CreateOrg(ctx, &o), tt.want)
				if tt.org.ID != "" && tt.want == "" && o.ID != tt.org.ID {
					t.Fatalf("ID = %q, want %q kept", o.ID, tt.org.ID)
				}
			})
		}
	})

	t.Run("Find", func(t *testing.T) {
		tests := []struct {
			name string
			find func() (*veil.Org, error)
			want string
		}{
			{"ByID", func() (*veil.Org, error) { return db.FindOrgByID(ctx, acme.ID) }, ""},
			{"ByName", func() (*veil.Org, error) { return db.FindOrgByName(ctx, "acme") }, ""},
			{"ByIDErrNotFound", func() (*veil.Org, error) { return db.FindOrgByID(ctx, "org_missing") }, veil.ENOTFOUND},
			{"ByNameErrNotFound", func() (*veil.Org, error) { return db.FindOrgByName(ctx, "ACME") }, veil.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.find()
				wantCode(t, err, tt.want)
				if err == nil {
					if diff := cmp.Diff(acme, got); diff != "" {
						t.Fatalf("(-want +got):\n%s", diff)
					}
				}
			})
		}
	})

	t.Run("List", func(t *testing.T) {
		orgs, err := db.ListOrgs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range orgs {
			names = append(names, o.Name)
		}
		if diff := cmp.Diff([]string{"acme", "globex", "initech"}, names); diff != "" {
			t.Fatalf("ListOrgs names (-want +got):\n%s", diff)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		o := MustCreateOrg(t, db, "doomed")
		wantCode(t, db.DeleteOrg(ctx, o.ID), "")
		_, err := db.FindOrgByID(ctx, o.ID)
		wantCode(t, err, veil.ENOTFOUND)
		wantCode(t, db.DeleteOrg(ctx, o.ID), veil.ENOTFOUND)
	})
}

func testProject(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	acme, globex := MustCreateOrg(t, db, "acme"), MustCreateOrg(t, db, "globex")
	web := MustCreateProject(t, db, acme.ID, "web")
	if !strings.HasPrefix(web.ID, "prj_") || !web.CreatedAt.Equal(now(clk)) {
		t.Fatalf("created project = %+v", web)
	}

	t.Run("Create", func(t *testing.T) {
		tests := []struct {
			name string
			p    veil.Project
			want string
		}{
			{"OK", veil.Project{OrgID: acme.ID, Name: "api", WrappedKey: []byte{0, 1, 2, 255}}, ""},
			{"OKSameNameOtherOrg", veil.Project{OrgID: globex.ID, Name: "web"}, ""},
			{"ErrNameRequired", veil.Project{OrgID: acme.ID}, veil.EINVALID},
			{"ErrOrgRequired", veil.Project{Name: "x"}, veil.EINVALID},
			{"ErrOrgNotFound", veil.Project{OrgID: "org_missing", Name: "x"}, veil.ENOTFOUND},
			{"ErrDuplicateNameInOrg", veil.Project{OrgID: acme.ID, Name: "web"}, veil.ECONFLICT},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := tt.p
				wantCode(t, db.CreateProject(ctx, &p), tt.want)
				if tt.want != "" {
					return
				}
				got, err := db.FindProjectByID(ctx, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(&p, got, equateEmpty); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("Find", func(t *testing.T) {
		tests := []struct {
			name string
			find func() (*veil.Project, error)
			want string
		}{
			{"ByID", func() (*veil.Project, error) { return db.FindProjectByID(ctx, web.ID) }, ""},
			{"ByName", func() (*veil.Project, error) { return db.FindProjectByName(ctx, acme.ID, "web") }, ""},
			{"ByIDErrNotFound", func() (*veil.Project, error) { return db.FindProjectByID(ctx, "prj_missing") }, veil.ENOTFOUND},
			{"ByNameErrNotFound", func() (*veil.Project, error) { return db.FindProjectByName(ctx, acme.ID, "nope") }, veil.ENOTFOUND},
			// Tenant scoping: the name exists, but not in this org.
			{"ByNameErrOtherOrg", func() (*veil.Project, error) { return db.FindProjectByName(ctx, "org_missing", "web") }, veil.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.find()
				wantCode(t, err, tt.want)
				if err == nil {
					if diff := cmp.Diff(web, got); diff != "" {
						t.Fatalf("(-want +got):\n%s", diff)
					}
				}
			})
		}
	})

	t.Run("List", func(t *testing.T) {
		tests := []struct {
			name  string
			orgID string
			want  []string
		}{
			{"Org", acme.ID, []string{"api", "web"}},
			{"OtherOrg", globex.ID, []string{"web"}},
			{"All", "", []string{"api", "web", "web"}},
			{"UnknownOrg", "org_missing", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ps, err := db.ListProjects(ctx, tt.orgID)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, p := range ps {
					names = append(names, p.Name)
				}
				if diff := cmp.Diff(tt.want, names); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("Delete", func(t *testing.T) {
		p := MustCreateProject(t, db, acme.ID, "doomed")
		wantCode(t, db.DeleteProject(ctx, globex.ID, p.ID), veil.ENOTFOUND) // other tenant
		wantCode(t, db.DeleteProject(ctx, acme.ID, p.ID), "")
		wantCode(t, db.DeleteProject(ctx, acme.ID, p.ID), veil.ENOTFOUND)
	})
}

func testRewrap(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	org := MustCreateOrg(t, db, "acme")
	for _, n := range []string{"a", "b", "c"} {
		MustCreateProject(t, db, org.ID, n)
	}
	keys := func() []string {
		ps, err := db.ListProjects(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, string(p.WrappedKey))
		}
		return out
	}

	t.Run("ErrRollsBack", func(t *testing.T) {
		boom := errors.New("boom")
		calls := 0
		_, err := db.RewrapProjectKeys(ctx, func(p *veil.Project) ([]byte, error) {
			if calls++; calls == 2 {
				return nil, boom
			}
			return []byte("new:" + p.Name), nil
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want it to wrap fn's error", err)
		}
		if diff := cmp.Diff([]string{"wrapped:a", "wrapped:b", "wrapped:c"}, keys()); diff != "" {
			t.Fatalf("keys changed despite failure (-want +got):\n%s", diff)
		}
	})
	t.Run("OK", func(t *testing.T) {
		n, err := db.RewrapProjectKeys(ctx, func(p *veil.Project) ([]byte, error) {
			return []byte("re" + string(p.WrappedKey)), nil
		})
		if err != nil || n != 3 {
			t.Fatalf("RewrapProjectKeys = %d, %v; want 3", n, err)
		}
		if diff := cmp.Diff([]string{"rewrapped:a", "rewrapped:b", "rewrapped:c"}, keys()); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
}
