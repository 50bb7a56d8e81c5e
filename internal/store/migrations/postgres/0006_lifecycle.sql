-- Data lifecycle (issue 9): retention settings, the deletion ledger
-- (tombstones of deleted sessions) and pack objects holding dead bytes
-- that the compaction job must rewrite. Keep in step with sqlite.

CREATE TABLE retention_policies (
	org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	project_id   TEXT NOT NULL DEFAULT '',
	replay_days  INTEGER,
	event_days   INTEGER,
	updated_at   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (org_id, project_id)
);

CREATE TABLE deleted_sessions (
	project_id TEXT NOT NULL,
	session_id TEXT COLLATE "C" NOT NULL,
	reason     TEXT NOT NULL,
	deleted_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (project_id, session_id)
);
CREATE INDEX deleted_sessions_deleted_at ON deleted_sessions (deleted_at);

CREATE TABLE pack_garbage (
	blob_key   TEXT PRIMARY KEY,
	project_id TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
