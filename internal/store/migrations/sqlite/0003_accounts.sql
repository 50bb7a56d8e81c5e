-- Accounts: organisation settings, browser sessions, API tokens, MFA,
-- login throttling, the hash-chained audit log, OIDC SSO and the
-- instance-wide wrapped keys. Keep in step with ../postgres/0003_accounts.sql.

ALTER TABLE orgs ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 0;

-- web_sessions are dashboard log-ins (not recorded replay sessions). Only a
-- SHA-256 hash of the cookie token is stored.
CREATE TABLE web_sessions (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash   BLOB NOT NULL UNIQUE,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	mfa_pending  INTEGER NOT NULL DEFAULT 0,
	ip           TEXT NOT NULL DEFAULT '',
	user_agent   TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX web_sessions_user_id ON web_sessions (user_id);

CREATE TABLE api_tokens (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	user_id      TEXT REFERENCES users (id) ON DELETE SET NULL,
	name         TEXT NOT NULL,
	role         TEXT NOT NULL,
	prefix       TEXT NOT NULL UNIQUE,
	hash         BLOB NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER,
	last_used_at INTEGER,
	revoked_at   INTEGER
) STRICT;
CREATE INDEX api_tokens_org_id ON api_tokens (org_id);

CREATE TABLE user_mfa (
	user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	secret     TEXT NOT NULL,
	enabled    INTEGER NOT NULL DEFAULT 0,
	last_step  INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	enabled_at INTEGER
) STRICT;

CREATE TABLE recovery_codes (
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash    BLOB NOT NULL,
	used_at INTEGER,
	PRIMARY KEY (user_id, hash)
) STRICT;

CREATE TABLE login_throttle (
	key          TEXT PRIMARY KEY,
	failures     INTEGER NOT NULL,
	window_start INTEGER NOT NULL,
	locked_until INTEGER NOT NULL
) STRICT;

-- The audit log is append-only: rows are never updated or deleted by Veil.
-- Each row's hash commits to the previous row's hash (see internal/audit).
CREATE TABLE audit_log (
	seq         INTEGER PRIMARY KEY,
	id          TEXT NOT NULL UNIQUE,
	at          INTEGER NOT NULL,
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
) STRICT;
CREATE INDEX audit_log_org_seq ON audit_log (org_id, seq);

CREATE TABLE org_sso (
	org_id          TEXT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
	issuer          TEXT NOT NULL,
	client_id       TEXT NOT NULL,
	sealed_secret   BLOB NOT NULL,
	allowed_domains TEXT NOT NULL DEFAULT '[]', -- JSON array
	default_role    TEXT NOT NULL,
	enabled         INTEGER NOT NULL DEFAULT 0,
	updated_at      INTEGER NOT NULL
) STRICT;

-- Instance-wide data keys (e.g. "accounts", which seals TOTP secrets and
-- SSO client secrets), stored only wrapped by the master key.
CREATE TABLE instance_keys (
	name        TEXT PRIMARY KEY,
	wrapped_key BLOB NOT NULL,
	created_at  INTEGER NOT NULL
) STRICT;
