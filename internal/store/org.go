package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/veil-privacy/veil"
)

// CreateOrg implements Repository.
func (db *DB) CreateOrg(ctx context.Context, o *veil.Org) error {
	o.Name = strings.TrimSpace(o.Name)
	if o.Name == "" {
		return invalidf("Organisation name required.")
	}
	if o.ID == "" {
		o.ID = veil.NewID("org")
	}
	o.CreatedAt = db.now()
	_, err := db.exec(ctx, db.w, "INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)",
		o.ID, o.Name, db.ts(o.CreatedAt))
	if err != nil {
		return mapErr(err, "create org", "An organisation with this name already exists.", "")
	}
	return nil
}

const orgCols = "id, name, created_at"

func scanOrg(s interface{ Scan(...any) error }) (*veil.Org, error) {
	var o veil.Org
	err := s.Scan(&o.ID, &o.Name, timeCol{&o.CreatedAt})
	return &o, err
}

func (db *DB) findOrg(ctx context.Context, where string, arg any) (*veil.Org, error) {
	o, err := scanOrg(db.queryRow(ctx, db.sql, "SELECT "+orgCols+" FROM orgs WHERE "+where, arg))
	return one(o, err, "find org", "Organisation not found.")
}

// FindOrgByID implements Repository.
func (db *DB) FindOrgByID(ctx context.Context, id string) (*veil.Org, error) {
	return db.findOrg(ctx, "id = ?", id)
}

// FindOrgByName implements Repository.
func (db *DB) FindOrgByName(ctx context.Context, name string) (*veil.Org, error) {
	return db.findOrg(ctx, "name = ?", strings.TrimSpace(name))
}

// ListOrgs implements Repository.
func (db *DB) ListOrgs(ctx context.Context) ([]*veil.Org, error) {
	rows, err := db.query(ctx, db.sql, "SELECT "+orgCols+" FROM orgs ORDER BY name")
	if err != nil {
		return nil, wrap("list orgs", err)
	}
	return collect(rows, scanOrg, "list orgs")
}

// DeleteOrg implements Repository.
func (db *DB) DeleteOrg(ctx context.Context, id string) error {
	defer db.keysChanged() // its projects' keys go with it
	res, err := db.exec(ctx, db.w, "DELETE FROM orgs WHERE id = ?", id)
	if err != nil {
		return wrap("delete org", err)
	}
	return rowsAffected(res, "Organisation not found.")
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error), op string) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, v)
	}
	return out, wrap(op, rows.Err())
}
