package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/veil-privacy/veil"
)

// Tenant-scoped lookups and changes for the accounts work. Every method
// takes the id of the organisation (or project, or user) the object must
// belong to; an object of another tenant is ENOTFOUND, exactly as if it did
// not exist, so callers cannot tell the two apart (and answer 404).

// FindOrgSettings returns the org's settings.
func (db *DB) FindOrgSettings(ctx context.Context, orgID string) (*veil.OrgSettings, error) {
	var s veil.OrgSettings
	err := db.queryRow(ctx, db.sql, "SELECT require_mfa, retention_days FROM orgs WHERE id = ?", orgID).
		Scan(&s.RequireMFA, &s.RetentionDays)
	return one(&s, err, "find org settings", "Organisation not found.")
}

// UpdateOrgSettings replaces the org's settings.
func (db *DB) UpdateOrgSettings(ctx context.Context, orgID string, s veil.OrgSettings) error {
	if s.RetentionDays < 0 || s.RetentionDays > 3650 {
		return invalidf("Retention must be between 0 and 3650 days.")
	}
	res, err := db.exec(ctx, db.w, "UPDATE orgs SET require_mfa = ?, retention_days = ? WHERE id = ?",
		s.RequireMFA, s.RetentionDays, orgID)
	if err != nil {
		return wrap("update org settings", err)
	}
	return rowsAffected(res, "Organisation not found.")
}

// ListUserOrgs returns the organisations the user belongs to, with the
// user's role in each, ordered by name.
func (db *DB) ListUserOrgs(ctx context.Context, userID string) ([]*veil.OrgMembership, error) {
	rows, err := db.query(ctx, db.sql, `SELECT o.id, o.name, o.created_at, m.role
		FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.name`, userID)
	if err != nil {
		return nil, wrap("list user orgs", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (*veil.OrgMembership, error) {
		var (
			om   veil.OrgMembership
			role string
		)
		err := s.Scan(&om.Org.ID, &om.Org.Name, timeCol{&om.Org.CreatedAt}, &role)
		om.Role = veil.Role(role)
		return &om, err
	}, "list user orgs")
}

const memberCols = "m.org_id, m.user_id, u.email, m.role, m.created_at"

func scanMember(s interface{ Scan(...any) error }) (*veil.Member, error) {
	var (
		m    veil.Member
		role string
	)
	err := s.Scan(&m.OrgID, &m.UserID, &m.Email, &role, timeCol{&m.CreatedAt})
	m.Role = veil.Role(role)
	return &m, err
}

// ListMembers returns the org's members ordered by e-mail.
func (db *DB) ListMembers(ctx context.Context, orgID string) ([]*veil.Member, error) {
	rows, err := db.query(ctx, db.sql, "SELECT "+memberCols+
		" FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? ORDER BY u.email_key", orgID)
	if err != nil {
		return nil, wrap("list members", err)
	}
	return collect(rows, scanMember, "list members")
}

// FindMember returns one member of the org.
func (db *DB) FindMember(ctx context.Context, orgID, userID string) (*veil.Member, error) {
	m, err := scanMember(db.queryRow(ctx, db.sql, "SELECT "+memberCols+
		" FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND m.user_id = ?", orgID, userID))
	return one(m, err, "find member", "Member not found.")
}

// UpdateMemberRole changes a member's role. Demoting the org's last owner
// is ECONFLICT: an organisation always keeps an owner.
func (db *DB) UpdateMemberRole(ctx context.Context, orgID, userID string, role veil.Role) error {
	if !role.Valid() {
		return invalidf("Unknown role %q.", role)
	}
	return db.withOwnerLock(ctx, orgID, userID, role == veil.RoleOwner, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, "UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?", string(role), orgID, userID)
		if err != nil {
			return wrap("update member role", err)
		}
		return rowsAffected(res, "Member not found.")
	})
}

// DeleteMember removes a member from the org. Removing the last owner is
// ECONFLICT.
func (db *DB) DeleteMember(ctx context.Context, orgID, userID string) error {
	return db.withOwnerLock(ctx, orgID, userID, false, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, "DELETE FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID)
		if err != nil {
			return wrap("delete member", err)
		}
		return rowsAffected(res, "Member not found.")
	})
}

// withOwnerLock runs fn in a transaction that serialises membership changes
// of the org, after checking that the change keeps at least one owner:
// userID stays an owner only if keepsOwner.
func (db *DB) withOwnerLock(ctx context.Context, orgID, userID string, keepsOwner bool, fn func(tx *sql.Tx) error) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if db.dialect == Postgres {
			// SQLite's BEGIN IMMEDIATE already serialises writers.
			if _, err := db.exec(ctx, tx, "SELECT id FROM orgs WHERE id = ? FOR UPDATE", orgID); err != nil {
				return wrap("lock org", err)
			}
		}
		var role string
		err := db.queryRow(ctx, tx, "SELECT role FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID).Scan(&role)
		if _, err := one(&role, err, "find member", "Member not found."); err != nil {
			return err
		}
		if veil.Role(role) == veil.RoleOwner && !keepsOwner {
			var others int
			if err := db.queryRow(ctx, tx, "SELECT COUNT(*) FROM memberships WHERE org_id = ? AND role = 'owner' AND user_id <> ?",
				orgID, userID).Scan(&others); err != nil {
				return wrap("count owners", err)
			}
			if others == 0 {
				return veil.Errorf(veil.ECONFLICT, "An organisation must keep at least one owner.")
			}
		}
		return fn(tx)
	})
}

// FindOrgProject returns a project of the org.
func (db *DB) FindOrgProject(ctx context.Context, orgID, projectID string) (*veil.Project, error) {
	return db.findProject(ctx, "org_id = ? AND id = ?", orgID, projectID)
}

// FindKey returns one key of the project.
func (db *DB) FindKey(ctx context.Context, projectID, keyID string) (*veil.WriteKey, error) {
	k, err := scanKey(db.queryRow(ctx, db.sql, "SELECT "+keyCols+" FROM write_keys WHERE project_id = ? AND id = ?", projectID, keyID))
	return one(k, err, "find key", "Key not found.")
}

// UpdateKeyOrigins replaces the allowed origins of a project's key. Origins
// must already be normalised (see internal/writekey).
func (db *DB) UpdateKeyOrigins(ctx context.Context, projectID, keyID string, origins []string) error {
	defer db.keysChanged()
	if origins == nil {
		origins = []string{}
	}
	js, err := json.Marshal(origins)
	if err != nil {
		return fmt.Errorf("encode origins: %w", err)
	}
	res, err := db.exec(ctx, db.w, "UPDATE write_keys SET origins = ? WHERE project_id = ? AND id = ?", string(js), projectID, keyID)
	if err != nil {
		return wrap("update key origins", err)
	}
	return rowsAffected(res, "Key not found.")
}

// UpdateUserPassword replaces a user's password hash.
func (db *DB) UpdateUserPassword(ctx context.Context, userID, hash string) error {
	if strings.TrimSpace(hash) == "" {
		return invalidf("Password hash required.")
	}
	res, err := db.exec(ctx, db.w, "UPDATE users SET password_hash = ? WHERE id = ?", hash, userID)
	if err != nil {
		return wrap("update user password", err)
	}
	return rowsAffected(res, "User not found.")
}
