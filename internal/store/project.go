package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/veil-privacy/veil"
)

// CreateProject implements Repository.
func (db *DB) CreateProject(ctx context.Context, p *veil.Project) error {
	p.Name = strings.TrimSpace(p.Name)
	switch {
	case p.OrgID == "":
		return invalidf("Organisation required.")
	case p.Name == "":
		return invalidf("Project name required.")
	}
	if p.ID == "" {
		p.ID = veil.NewID("prj")
	}
	p.CreatedAt = db.now()
	_, err := db.exec(ctx, db.w,
		"INSERT INTO projects (id, org_id, name, wrapped_key, created_at) VALUES (?, ?, ?, ?, ?)",
		p.ID, p.OrgID, p.Name, nonNil(p.WrappedKey), db.ts(p.CreatedAt))
	if err != nil {
		return mapErr(err, "create project", "A project with this name already exists in the organisation.", "Organisation not found.")
	}
	return nil
}

const projectCols = "id, org_id, name, wrapped_key, created_at"

func scanProject(s interface{ Scan(...any) error }) (*veil.Project, error) {
	var p veil.Project
	err := s.Scan(&p.ID, &p.OrgID, &p.Name, &p.WrappedKey, timeCol{&p.CreatedAt})
	return &p, err
}

func (db *DB) findProject(ctx context.Context, where string, args ...any) (*veil.Project, error) {
	p, err := scanProject(db.queryRow(ctx, db.sql, "SELECT "+projectCols+" FROM projects WHERE "+where, args...))
	return one(p, err, "find project", "Project not found.")
}

// FindProjectByID implements Repository.
func (db *DB) FindProjectByID(ctx context.Context, id string) (*veil.Project, error) {
	return db.findProject(ctx, "id = ?", id)
}

// FindProjectByName implements Repository.
func (db *DB) FindProjectByName(ctx context.Context, orgID, name string) (*veil.Project, error) {
	return db.findProject(ctx, "org_id = ? AND name = ?", orgID, strings.TrimSpace(name))
}

// ListProjects implements Repository.
func (db *DB) ListProjects(ctx context.Context, orgID string) ([]*veil.Project, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if orgID == "" {
		rows, err = db.query(ctx, db.sql, "SELECT "+projectCols+" FROM projects ORDER BY name, id")
	} else {
		rows, err = db.query(ctx, db.sql, "SELECT "+projectCols+" FROM projects WHERE org_id = ? ORDER BY name", orgID)
	}
	if err != nil {
		return nil, wrap("list projects", err)
	}
	return collect(rows, scanProject, "list projects")
}

// DeleteProject implements Repository.
func (db *DB) DeleteProject(ctx context.Context, orgID, id string) error {
	defer db.keysChanged() // its keys go with it
	res, err := db.exec(ctx, db.w, "DELETE FROM projects WHERE org_id = ? AND id = ?", orgID, id)
	if err != nil {
		return wrap("delete project", err)
	}
	return rowsAffected(res, "Project not found.")
}

// RewrapProjectKeys implements Repository.
func (db *DB) RewrapProjectKeys(ctx context.Context, fn func(p *veil.Project) ([]byte, error)) (int, error) {
	n := 0
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if db.dialect == Postgres {
			// SQLite's BEGIN IMMEDIATE already excludes other writers; on
			// Postgres, also stop projects being created mid-rotation
			// (they would be wrapped by the old key and missed here).
			if _, err := tx.ExecContext(ctx, "LOCK TABLE projects IN SHARE ROW EXCLUSIVE MODE"); err != nil {
				return fmt.Errorf("lock projects: %w", err)
			}
		}
		rows, err := db.query(ctx, tx, "SELECT "+projectCols+" FROM projects ORDER BY id")
		if err != nil {
			return err
		}
		projects, err := collect(rows, scanProject, "read projects")
		if err != nil {
			return err
		}
		for _, p := range projects {
			key, err := fn(p)
			if err != nil {
				return fmt.Errorf("rewrap project %s: %w", p.ID, err)
			}
			if _, err := db.exec(ctx, tx, "UPDATE projects SET wrapped_key = ? WHERE id = ?", nonNil(key), p.ID); err != nil {
				return fmt.Errorf("update project %s: %w", p.ID, err)
			}
		}
		n = len(projects)
		return nil
	})
	if err != nil {
		return 0, wrap("rewrap project keys", err)
	}
	return n, nil
}

// nonNil maps nil to an empty slice: key columns are NOT NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
