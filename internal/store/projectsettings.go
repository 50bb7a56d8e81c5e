package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/veil-privacy/veil"
)

// FindProjectSettings returns a project's stored privacy settings. A
// project without saved settings gets empty JSON fields and version 0
// (callers apply the defaults); it does not check that the project exists:
// callers look the project up under its organisation first.
func (db *DB) FindProjectSettings(ctx context.Context, projectID string) (*veil.ProjectSettings, error) {
	s := &veil.ProjectSettings{ProjectID: projectID}
	err := db.queryRow(ctx, db.sql, "SELECT scrub_rules, sdk, version, updated_at FROM project_settings WHERE project_id = ?", projectID).
		Scan(&s.ScrubRules, &s.SDK, &s.Version, timeCol{&s.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return nil, wrap("find project settings", err)
	}
	return s, nil
}

// ProjectSettingsVersion returns the version of a project's settings (0
// when none were saved): one primary-key lookup, for cache checks.
func (db *DB) ProjectSettingsVersion(ctx context.Context, projectID string) (int64, error) {
	var v int64
	err := db.queryRow(ctx, db.sql, "SELECT version FROM project_settings WHERE project_id = ?", projectID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, wrap("project settings version", err)
}

// PutProjectScrubRules stores a project's scrubbing rules (JSON, already
// validated by the caller) and returns the new settings version.
func (db *DB) PutProjectScrubRules(ctx context.Context, projectID, rules string) (int64, error) {
	return db.putProjectSetting(ctx, projectID, "scrub_rules", rules)
}

// PutProjectSDKSettings stores a project's SDK masking defaults (JSON,
// already validated by the caller) and returns the new settings version.
func (db *DB) PutProjectSDKSettings(ctx context.Context, projectID, sdk string) (int64, error) {
	return db.putProjectSetting(ctx, projectID, "sdk", sdk)
}

// putProjectSetting upserts one column and bumps the version. col is one
// of the two constants above, never input.
func (db *DB) putProjectSetting(ctx context.Context, projectID, col, value string) (int64, error) {
	var v int64
	err := db.queryRow(ctx, db.w, "INSERT INTO project_settings (project_id, "+col+", version, updated_at) VALUES (?, ?, 1, ?) "+
		"ON CONFLICT (project_id) DO UPDATE SET "+col+" = excluded."+col+", version = project_settings.version + 1, updated_at = excluded.updated_at "+
		"RETURNING version", projectID, value, db.ts(db.now())).Scan(&v)
	if err != nil {
		return 0, mapErr(err, "put project settings", "", "Project not found.")
	}
	return v, nil
}
