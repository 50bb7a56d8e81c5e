-- WebAuthn credentials (security keys, passkeys) used as a second factor.
-- credential is the go-webauthn credential record as JSON (public key,
-- sign count, flags); no secret is stored. Keep in step with postgres.
CREATE TABLE webauthn_credentials (
	id            TEXT PRIMARY KEY,
	user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	credential    TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	last_used_at  INTEGER
) STRICT;
CREATE INDEX webauthn_credentials_user_id ON webauthn_credentials (user_id);
