-- Initial schema (SQLite). Times are INTEGER unix microseconds in UTC;
-- booleans are 0/1. Keep in step with ../postgres/0001_init.sql.

CREATE TABLE orgs (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE projects (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	wrapped_key BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	UNIQUE (org_id, name)
) STRICT;

CREATE TABLE write_keys (
	id         TEXT PRIMARY KEY,
	project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	kind       TEXT NOT NULL CHECK (kind IN ('browser', 'server')),
	prefix     TEXT NOT NULL UNIQUE,
	hash       BLOB NOT NULL,
	origins    TEXT NOT NULL DEFAULT '[]', -- JSON array of allowed origins
	created_at INTEGER NOT NULL,
	revoked_at INTEGER
) STRICT;
CREATE INDEX write_keys_project_id ON write_keys (project_id);

-- email_key is the email lower-cased by the application (not by SQL, whose
-- case folding differs between dialects), so uniqueness ignores case.
CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL,
	email_key     TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	is_demo       INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX users_is_demo ON users (is_demo) WHERE is_demo;

CREATE TABLE memberships (
	org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (org_id, user_id)
) STRICT;
CREATE INDEX memberships_user_id ON memberships (user_id);

CREATE TABLE sessions (
	project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	id          TEXT NOT NULL,
	wrapped_key BLOB NOT NULL,
	user_index  TEXT NOT NULL DEFAULT '',
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	url_path    TEXT NOT NULL DEFAULT '',
	user_agent  TEXT NOT NULL DEFAULT '',
	events      INTEGER NOT NULL DEFAULT 0,
	segments    INTEGER NOT NULL DEFAULT 0,
	errors      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (project_id, id)
) STRICT;
CREATE INDEX sessions_project_last_seen ON sessions (project_id, last_seen);
CREATE INDEX sessions_project_user_index ON sessions (project_id, user_index);

CREATE TABLE event_batches (
	id         TEXT PRIMARY KEY,
	project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	blob_key   TEXT NOT NULL,
	count      INTEGER NOT NULL,
	min_time   INTEGER NOT NULL,
	max_time   INTEGER NOT NULL,
	bytes      INTEGER NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX event_batches_project_min_time ON event_batches (project_id, min_time);

-- Leases let one node at a time run a background job.
CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
