package veil

import "time"

// User is a person who can log in to the dashboard. Email is unique
// regardless of letter case.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	// PasswordHash is an encoded password hash (e.g. argon2id in PHC
	// format); it is never shown.
	PasswordHash string `json:"-"`
	// IsDemo marks users created by `veil serve --demo`; `veil doctor`
	// warns while any exist because their credentials are well known.
	IsDemo    bool      `json:"is_demo,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Role is what a member may do in an organisation.
type Role string

// Roles, from most to least privileged.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleOwner, RoleAdmin, RoleMember, RoleViewer:
		return true
	}
	return false
}

// Membership grants a user a role in an organisation.
type Membership struct {
	OrgID     string    `json:"org_id"`
	UserID    string    `json:"user_id"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// SessionUpdate is a change to a session's metadata, as ingest applies it
// for each received segment. Counters are added, not set, so concurrent
// writers never lose counts; LastSeen only moves forward.
type SessionUpdate struct {
	AddEvents   int64
	AddSegments int64
	AddErrors   int64
	LastSeen    *time.Time // nil keeps the current value
	URLPath     *string    // nil keeps the current value
}
