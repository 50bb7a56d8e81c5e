-- See ../sqlite/0004_sso_sessions.sql.
ALTER TABLE web_sessions ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
