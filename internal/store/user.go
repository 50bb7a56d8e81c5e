package store

import (
	"context"
	"strings"

	"github.com/veil-privacy/veil"
)

// emailKey folds an email for the unique index. It is done here, not in
// SQL, because SQLite's lower() folds only ASCII and Postgres' depends on
// the locale.
func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser implements Repository.
func (db *DB) CreateUser(ctx context.Context, u *veil.User) error {
	u.Email = strings.TrimSpace(u.Email)
	if u.Email == "" || !strings.Contains(u.Email, "@") {
		return invalidf("A valid email address is required.")
	}
	if u.ID == "" {
		u.ID = veil.NewID("usr")
	}
	u.CreatedAt = db.now()
	_, err := db.exec(ctx, db.w, `INSERT INTO users
		(id, email, email_key, password_hash, is_demo, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, emailKey(u.Email), u.PasswordHash, u.IsDemo, db.ts(u.CreatedAt))
	if err != nil {
		return mapErr(err, "create user", "A user with this email already exists.", "")
	}
	return nil
}

const userCols = "id, email, password_hash, is_demo, created_at"

func scanUser(s interface{ Scan(...any) error }) (*veil.User, error) {
	var u veil.User
	err := s.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.IsDemo, timeCol{&u.CreatedAt})
	return &u, err
}

func (db *DB) findUser(ctx context.Context, where string, arg any) (*veil.User, error) {
	u, err := scanUser(db.queryRow(ctx, db.sql, "SELECT "+userCols+" FROM users WHERE "+where, arg))
	return one(u, err, "find user", "User not found.")
}

// FindUserByID implements Repository.
func (db *DB) FindUserByID(ctx context.Context, id string) (*veil.User, error) {
	return db.findUser(ctx, "id = ?", id)
}

// FindUserByEmail implements Repository.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*veil.User, error) {
	return db.findUser(ctx, "email_key = ?", emailKey(email))
}

// ListDemoUsers implements Repository.
func (db *DB) ListDemoUsers(ctx context.Context) ([]*veil.User, error) {
	rows, err := db.query(ctx, db.sql, "SELECT "+userCols+" FROM users WHERE is_demo ORDER BY email_key")
	if err != nil {
		return nil, wrap("list demo users", err)
	}
	return collect(rows, scanUser, "list demo users")
}

// CreateMembership implements Repository.
func (db *DB) CreateMembership(ctx context.Context, m *veil.Membership) error {
	switch {
	case m.OrgID == "" || m.UserID == "":
		return invalidf("Organisation and user required.")
	case !m.Role.Valid():
		return invalidf("Unknown role %q.", m.Role)
	}
	m.CreatedAt = db.now()
	_, err := db.exec(ctx, db.w,
		"INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)",
		m.OrgID, m.UserID, string(m.Role), db.ts(m.CreatedAt))
	if err != nil {
		return mapErr(err, "create membership", "The user is already a member of this organisation.", "Organisation or user not found.")
	}
	return nil
}

const membershipCols = "org_id, user_id, role, created_at"

func scanMembership(s interface{ Scan(...any) error }) (*veil.Membership, error) {
	var (
		m    veil.Membership
		role string
	)
	err := s.Scan(&m.OrgID, &m.UserID, &role, timeCol{&m.CreatedAt})
	m.Role = veil.Role(role)
	return &m, err
}

// FindMembership implements Repository.
func (db *DB) FindMembership(ctx context.Context, orgID, userID string) (*veil.Membership, error) {
	m, err := scanMembership(db.queryRow(ctx, db.sql,
		"SELECT "+membershipCols+" FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID))
	return one(m, err, "find membership", "Membership not found.")
}

// ListMemberships implements Repository.
func (db *DB) ListMemberships(ctx context.Context, userID string) ([]*veil.Membership, error) {
	rows, err := db.query(ctx, db.sql,
		"SELECT "+membershipCols+" FROM memberships WHERE user_id = ? ORDER BY org_id", userID)
	if err != nil {
		return nil, wrap("list memberships", err)
	}
	return collect(rows, scanMembership, "list memberships")
}
