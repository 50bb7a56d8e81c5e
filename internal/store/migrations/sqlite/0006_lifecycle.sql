-- Data lifecycle (issue 9): retention settings, the deletion ledger
-- (tombstones of deleted sessions) and pack objects holding dead bytes
-- that the compaction job must rewrite. Keep in step with postgres.

-- Retention in days; NULL inherits (project row → org default row whose
-- project_id is ''), 0 keeps forever.
CREATE TABLE retention_policies (
	org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	project_id   TEXT NOT NULL DEFAULT '',
	replay_days  INTEGER,
	event_days   INTEGER,
	updated_at   INTEGER NOT NULL,
	PRIMARY KEY (org_id, project_id)
) STRICT;

-- One row per deleted session: ids and why, never content. It outlives the
-- session (no foreign key) so a restore can re-apply deletions.
CREATE TABLE deleted_sessions (
	project_id TEXT NOT NULL,
	session_id TEXT NOT NULL,
	reason     TEXT NOT NULL,
	deleted_at INTEGER NOT NULL,
	PRIMARY KEY (project_id, session_id)
) STRICT;
CREATE INDEX deleted_sessions_deleted_at ON deleted_sessions (deleted_at);

-- Pack objects that hold bytes of deleted segments.
CREATE TABLE pack_garbage (
	blob_key   TEXT PRIMARY KEY,
	project_id TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
