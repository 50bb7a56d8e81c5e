package auth

import (
	"testing"

	"github.com/veil-privacy/veil"
)

func TestCan(t *testing.T) {
	type row struct{ viewer, member, admin, owner bool }
	tests := []struct {
		perm Permission
		want row
	}{
		{PermOrgRead, row{true, true, true, true}},
		{PermProjectRead, row{true, true, true, true}},
		{PermReplayView, row{true, true, true, true}},
		{PermMembersRead, row{true, true, true, true}},
		{PermKeysRead, row{false, true, true, true}},
		{PermKeysManage, row{false, true, true, true}},
		{PermDataExport, row{false, true, true, true}},
		{PermProjectManage, row{false, false, true, true}},
		{PermMembersManage, row{false, false, true, true}},
		{PermSettingsManage, row{false, false, true, true}},
		{PermDestinationsManage, row{false, false, true, true}},
		{PermTokensManage, row{false, false, true, true}},
		{PermAuditRead, row{false, false, true, true}},
		{PermOrgDelete, row{false, false, false, true}},
		{PermOwnersManage, row{false, false, false, true}},
		{"no.such.permission", row{}},
	}
	if len(tests)-1 != len(Permissions()) {
		t.Fatalf("table covers %d permissions, %d exist", len(tests)-1, len(Permissions()))
	}
	for _, tt := range tests {
		t.Run(string(tt.perm), func(t *testing.T) {
			got := row{Can(veil.RoleViewer, tt.perm), Can(veil.RoleMember, tt.perm), Can(veil.RoleAdmin, tt.perm), Can(veil.RoleOwner, tt.perm)}
			if got != tt.want {
				t.Fatalf("Can(viewer, member, admin, owner) = %+v, want %+v", got, tt.want)
			}
			if Can("", tt.perm) || Can("root", tt.perm) {
				t.Fatal("unknown role granted")
			}
		})
	}
}

func TestAtLeast(t *testing.T) {
	tests := []struct {
		a, b veil.Role
		want bool
	}{
		{veil.RoleOwner, veil.RoleOwner, true},
		{veil.RoleAdmin, veil.RoleOwner, false},
		{veil.RoleAdmin, veil.RoleMember, true},
		{veil.RoleViewer, veil.RoleMember, false},
		{"x", veil.RoleViewer, false},
		{veil.RoleOwner, "x", false},
	}
	for _, tt := range tests {
		if got := AtLeast(tt.a, tt.b); got != tt.want {
			t.Errorf("AtLeast(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}
