-- See ../sqlite/0011_session_ended.sql.
ALTER TABLE sessions ADD COLUMN stored_at TIMESTAMPTZ;
ALTER TABLE sessions ADD COLUMN ended_at TIMESTAMPTZ;
UPDATE sessions SET ended_at = last_seen WHERE segments > 0;

CREATE INDEX sessions_open_stored_at ON sessions (stored_at) WHERE ended_at IS NULL;
