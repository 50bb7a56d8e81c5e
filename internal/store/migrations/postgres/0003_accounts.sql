-- Accounts (Postgres). Keep in step with ../sqlite/0003_accounts.sql.

ALTER TABLE orgs ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE orgs ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 0;

CREATE TABLE web_sessions (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash   BYTEA NOT NULL UNIQUE,
	created_at   TIMESTAMPTZ NOT NULL,
	last_seen_at TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ NOT NULL,
	mfa_pending  BOOLEAN NOT NULL DEFAULT FALSE,
	ip           TEXT NOT NULL DEFAULT '',
	user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX web_sessions_user_id ON web_sessions (user_id);

CREATE TABLE api_tokens (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	user_id      TEXT REFERENCES users (id) ON DELETE SET NULL,
	name         TEXT NOT NULL,
	role         TEXT NOT NULL,
	prefix       TEXT COLLATE "C" NOT NULL UNIQUE,
	hash         BYTEA NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ,
	last_used_at TIMESTAMPTZ,
	revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_org_id ON api_tokens (org_id);

CREATE TABLE user_mfa (
	user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	secret     TEXT NOT NULL,
	enabled    BOOLEAN NOT NULL DEFAULT FALSE,
	last_step  BIGINT NOT NULL DEFAULT 0,
	created_at TIMESTAMPTZ NOT NULL,
	enabled_at TIMESTAMPTZ
);

CREATE TABLE recovery_codes (
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash    BYTEA NOT NULL,
	used_at TIMESTAMPTZ,
	PRIMARY KEY (user_id, hash)
);

CREATE TABLE login_throttle (
	key          TEXT PRIMARY KEY,
	failures     INTEGER NOT NULL,
	window_start TIMESTAMPTZ NOT NULL,
	locked_until TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_log (
	seq         BIGINT PRIMARY KEY,
	id          TEXT NOT NULL UNIQUE,
	at          TIMESTAMPTZ NOT NULL,
	org_id      TEXT NOT NULL DEFAULT '',
	actor_kind  TEXT NOT NULL,
	actor_id    TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL,
	object_kind TEXT NOT NULL DEFAULT '',
	object_id   TEXT NOT NULL DEFAULT '',
	ip          TEXT NOT NULL DEFAULT '',
	details     TEXT NOT NULL DEFAULT '{}',
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL
);
CREATE INDEX audit_log_org_seq ON audit_log (org_id, seq);

CREATE TABLE org_sso (
	org_id          TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
	issuer          TEXT NOT NULL,
	client_id       TEXT NOT NULL,
	sealed_secret   BYTEA NOT NULL,
	allowed_domains TEXT NOT NULL DEFAULT '[]',
	default_role    TEXT NOT NULL,
	enabled         BOOLEAN NOT NULL DEFAULT FALSE,
	updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE instance_keys (
	name        TEXT PRIMARY KEY,
	wrapped_key BYTEA NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL
);
