package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

func testUser(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	alice := MustCreateUser(t, db, "Alice@Example.com")
	if !strings.HasPrefix(alice.ID, "usr_") || !alice.CreatedAt.Equal(now(clk)) || alice.IsDemo {
		t.Fatalf("created user = %+v", alice)
	}

	t.Run("Create", func(t *testing.T) {
		tests := []struct {
			name string
			u    veil.User
			want string
		}{
			{"OK", veil.User{Email: "bob@example.com", PasswordHash: "h"}, ""},
			{"OKDemo", veil.User{Email: "demo@example.com", PasswordHash: "h", IsDemo: true}, ""},
			{"OKUnicode", veil.User{Email: "Élodie@example.com", PasswordHash: "h"}, ""},
			{"ErrEmailRequired", veil.User{PasswordHash: "h"}, veil.EINVALID},
			{"ErrEmailInvalid", veil.User{Email: "alice", PasswordHash: "h"}, veil.EINVALID},
			{"ErrDuplicateEmail", veil.User{Email: "Alice@Example.com"}, veil.ECONFLICT},
			{"ErrDuplicateEmailOtherCase", veil.User{Email: "aLICE@example.COM"}, veil.ECONFLICT},
			// Case folding is the same on both dialects, beyond ASCII too.
			{"ErrDuplicateEmailUnicodeCase", veil.User{Email: "éLODIE@EXAMPLE.COM"}, veil.ECONFLICT},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := tt.u
				wantCode(t, db.CreateUser(ctx, &u), tt.want)
				if tt.want != "" {
					return
				}
				got, err := db.FindUserByID(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(&u, got); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("FindByEmail", func(t *testing.T) {
		tests := []struct {
			name  string
			email string
			want  string
		}{
			{"Exact", "Alice@Example.com", ""},
			{"OtherCase", "ALICE@EXAMPLE.COM", ""},
			{"Spaces", "  alice@example.com ", ""},
			{"ErrNotFound", "carol@example.com", veil.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.FindUserByEmail(ctx, tt.email)
				wantCode(t, err, tt.want)
				if err == nil {
					if diff := cmp.Diff(alice, got); diff != "" {
						t.Fatalf("(-want +got):\n%s", diff)
					}
				}
			})
		}
	})

	t.Run("FindByIDErrNotFound", func(t *testing.T) {
		_, err := db.FindUserByID(ctx, "usr_missing")
		wantCode(t, err, veil.ENOTFOUND)
	})

	t.Run("ListDemoUsers", func(t *testing.T) {
		us, err := db.ListDemoUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(us) != 1 || us[0].Email != "demo@example.com" || !us[0].IsDemo {
			t.Fatalf("ListDemoUsers = %+v, want only demo@example.com", us)
		}
	})
}

func testMembership(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	acme, globex := MustCreateOrg(t, db, "acme"), MustCreateOrg(t, db, "globex")
	alice, bob := MustCreateUser(t, db, "alice@example.com"), MustCreateUser(t, db, "bob@example.com")

	t.Run("Create", func(t *testing.T) {
		tests := []struct {
			name string
			m    veil.Membership
			want string
		}{
			{"OK", veil.Membership{OrgID: acme.ID, UserID: alice.ID, Role: veil.RoleOwner}, ""},
			{"OKOtherOrg", veil.Membership{OrgID: globex.ID, UserID: alice.ID, Role: veil.RoleViewer}, ""},
			{"OKOtherUser", veil.Membership{OrgID: acme.ID, UserID: bob.ID, Role: veil.RoleMember}, ""},
			{"ErrRole", veil.Membership{OrgID: acme.ID, UserID: bob.ID, Role: "god"}, veil.EINVALID},
			{"ErrOrgRequired", veil.Membership{UserID: bob.ID, Role: veil.RoleAdmin}, veil.EINVALID},
			{"ErrOrgNotFound", veil.Membership{OrgID: "org_missing", UserID: bob.ID, Role: veil.RoleAdmin}, veil.ENOTFOUND},
			{"ErrUserNotFound", veil.Membership{OrgID: acme.ID, UserID: "usr_missing", Role: veil.RoleAdmin}, veil.ENOTFOUND},
			{"ErrDuplicate", veil.Membership{OrgID: acme.ID, UserID: alice.ID, Role: veil.RoleAdmin}, veil.ECONFLICT},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m := tt.m
				wantCode(t, db.CreateMembership(ctx, &m), tt.want)
				if tt.want != "" {
					return
				}
				got, err := db.FindMembership(ctx, m.OrgID, m.UserID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(&m, got); diff != "" || !got.CreatedAt.Equal(now(clk)) {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("FindErrNotFound", func(t *testing.T) {
		_, err := db.FindMembership(ctx, globex.ID, bob.ID)
		wantCode(t, err, veil.ENOTFOUND)
	})

	t.Run("List", func(t *testing.T) {
		ms, err := db.ListMemberships(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]veil.Role{}
		for _, m := range ms {
			got[m.OrgID] = m.Role
		}
		want := map[string]veil.Role{acme.ID: veil.RoleOwner, globex.ID: veil.RoleViewer}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
}
