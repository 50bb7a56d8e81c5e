-- Per-project privacy settings (issues 4 and 8): scrubbing rules and the
-- masking defaults pushed to the browser SDK, each as JSON ('' = none
-- saved). version grows by one on every change: ingest nodes compare it to
-- decide whether their compiled scrubber is stale. Keep in step with
-- ../sqlite/0010_project_settings.sql.
CREATE TABLE project_settings (
	project_id  TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
	scrub_rules TEXT NOT NULL DEFAULT '',
	sdk         TEXT NOT NULL DEFAULT '',
	version     BIGINT NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL
);
