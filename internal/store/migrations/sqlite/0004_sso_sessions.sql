-- A browser session started by an organisation's single sign-on is bound
-- to that organisation ('' = a password session, valid for all the user's
-- organisations). Keep in step with ../postgres/0004_sso_sessions.sql.
ALTER TABLE web_sessions ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
