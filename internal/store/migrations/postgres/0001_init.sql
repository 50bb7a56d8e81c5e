-- Initial schema (Postgres). Keep in step with ../sqlite/0001_init.sql.
-- Names use COLLATE "C" so uniqueness and ordering are bytewise, as in
-- SQLite, whatever the cluster's locale.

CREATE TABLE orgs (
	id         TEXT PRIMARY KEY,
	name       TEXT COLLATE "C" NOT NULL UNIQUE,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE projects (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	name        TEXT COLLATE "C" NOT NULL,
	wrapped_key BYTEA NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL,
	UNIQUE (org_id, name)
);

CREATE TABLE write_keys (
	id         TEXT PRIMARY KEY,
	project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	kind       TEXT NOT NULL CHECK (kind IN ('browser', 'server')),
	prefix     TEXT COLLATE "C" NOT NULL UNIQUE,
	hash       BYTEA NOT NULL,
	origins    TEXT NOT NULL DEFAULT '[]', -- JSON array of allowed origins
	created_at TIMESTAMPTZ NOT NULL,
	revoked_at TIMESTAMPTZ
);
CREATE INDEX write_keys_project_id ON write_keys (project_id);

-- email_key is the email lower-cased by the application (not by SQL, whose
-- case folding differs between dialects), so uniqueness ignores case.
CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL,
	email_key     TEXT COLLATE "C" NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	is_demo       BOOLEAN NOT NULL DEFAULT FALSE,
	created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_is_demo ON users (is_demo) WHERE is_demo;

CREATE TABLE memberships (
	org_id     TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_id ON memberships (user_id);

CREATE TABLE sessions (
	project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	id          TEXT COLLATE "C" NOT NULL,
	wrapped_key BYTEA NOT NULL,
	user_index  TEXT NOT NULL DEFAULT '',
	first_seen  TIMESTAMPTZ NOT NULL,
	last_seen   TIMESTAMPTZ NOT NULL,
	url_path    TEXT NOT NULL DEFAULT '',
	user_agent  TEXT NOT NULL DEFAULT '',
	events      BIGINT NOT NULL DEFAULT 0,
	segments    BIGINT NOT NULL DEFAULT 0,
	errors      BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (project_id, id)
);
CREATE INDEX sessions_project_last_seen ON sessions (project_id, last_seen);
CREATE INDEX sessions_project_user_index ON sessions (project_id, user_index);

CREATE TABLE event_batches (
	id         TEXT PRIMARY KEY,
	project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	blob_key   TEXT NOT NULL,
	count      BIGINT NOT NULL,
	min_time   TIMESTAMPTZ NOT NULL,
	max_time   TIMESTAMPTZ NOT NULL,
	bytes      BIGINT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX event_batches_project_min_time ON event_batches (project_id, min_time);

-- Leases let one node at a time run a background job.
CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
