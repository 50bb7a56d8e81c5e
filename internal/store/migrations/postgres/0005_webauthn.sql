-- See ../sqlite/0005_webauthn.sql.
CREATE TABLE webauthn_credentials (
	id            TEXT PRIMARY KEY,
	user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id TEXT COLLATE "C" NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	credential    TEXT NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL,
	last_used_at  TIMESTAMPTZ
);
CREATE INDEX webauthn_credentials_user_id ON webauthn_credentials (user_id);
