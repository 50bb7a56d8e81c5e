package auth

import "github.com/veil-privacy/veil"

// Permission is something a role may do within an organisation.
type Permission string

// Permissions, grouped by the least role that has them.
const (
	// Viewers watch.
	PermOrgRead     Permission = "org.read"     // see the org, its projects and settings
	PermProjectRead Permission = "project.read" // see projects
	PermReplayView  Permission = "replay.view"  // watch replays, see events
	PermMembersRead Permission = "members.read" // see who is a member
	// Members also manage the write keys of projects.
	PermKeysRead   Permission = "keys.read"
	PermKeysManage Permission = "keys.manage" // create, rotate, revoke, change origins
	PermDataExport Permission = "data.export" // export recorded data
	// Admins manage projects, members, retention, destinations, tokens,
	// SSO, and read the audit log.
	PermProjectManage      Permission = "project.manage"
	PermMembersManage      Permission = "members.manage"
	PermSettingsManage     Permission = "settings.manage" // retention, require-MFA, SSO
	PermDestinationsManage Permission = "destinations.manage"
	PermTokensManage       Permission = "tokens.manage"
	PermAuditRead          Permission = "audit.read"
	// Owners do everything, including deleting the organisation and
	// granting or removing ownership.
	PermOrgDelete    Permission = "org.delete"
	PermOwnersManage Permission = "owners.manage"
)

// rank orders roles: a role has every permission of the roles below it.
var rank = map[veil.Role]int{veil.RoleViewer: 1, veil.RoleMember: 2, veil.RoleAdmin: 3, veil.RoleOwner: 4}

// minRole is the RBAC table: the least role holding each permission.
var minRole = map[Permission]veil.Role{
	PermOrgRead:            veil.RoleViewer,
	PermProjectRead:        veil.RoleViewer,
	PermReplayView:         veil.RoleViewer,
	PermMembersRead:        veil.RoleViewer,
	PermKeysRead:           veil.RoleMember,
	PermKeysManage:         veil.RoleMember,
	PermDataExport:         veil.RoleMember,
	PermProjectManage:      veil.RoleAdmin,
	PermMembersManage:      veil.RoleAdmin,
	PermSettingsManage:     veil.RoleAdmin,
	PermDestinationsManage: veil.RoleAdmin,
	PermTokensManage:       veil.RoleAdmin,
	PermAuditRead:          veil.RoleAdmin,
	PermOrgDelete:          veil.RoleOwner,
	PermOwnersManage:       veil.RoleOwner,
}

// Permissions returns every known permission.
func Permissions() []Permission {
	out := make([]Permission, 0, len(minRole))
	for p := range minRole {
		out = append(out, p)
	}
	return out
}

// Can reports whether role grants perm. It is pure: unknown roles and
// unknown permissions are denied.
func Can(role veil.Role, perm Permission) bool {
	need, ok := minRole[perm]
	if !ok {
		return false
	}
	r, ok := rank[role]
	return ok && r >= rank[need]
}

// AtLeast reports whether role a is at least as privileged as role b
// (used so nobody grants a role above their own).
func AtLeast(a, b veil.Role) bool {
	ra, ok := rank[a]
	return ok && ra >= rank[b] && rank[b] > 0
}
