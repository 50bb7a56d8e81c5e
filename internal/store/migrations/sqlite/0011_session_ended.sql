-- Session lifecycle for the session.ended webhook (store/sessionevents.go).
-- stored_at: server time the packer last stored a segment of the session
-- (NULL until the first one); idleness is measured on it, not on browser
-- clocks. ended_at: server time the session-ended job closed the session
-- (NULL = open). Sessions recorded before this migration are closed as
-- they are: no session.ended is sent for them. Keep in step with
-- ../postgres/0011_session_ended.sql.
ALTER TABLE sessions ADD COLUMN stored_at INTEGER;
ALTER TABLE sessions ADD COLUMN ended_at INTEGER;
UPDATE sessions SET ended_at = last_seen WHERE segments > 0;

-- The job's scan: open sessions by last storage time.
CREATE INDEX sessions_open_stored_at ON sessions (stored_at) WHERE ended_at IS NULL;
