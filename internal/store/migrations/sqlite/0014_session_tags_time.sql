-- Session list (issue 8): the custom event filter in time order. Each
-- session_tags row carries its session's last_seen, kept equal by the two
-- triggers below (whatever code inserts tags or moves last_seen), so
-- "sessions that saw event E, newest activity first" is one range of
-- session_tags_recent read in order with keyset pagination: a page of 50
-- reads 51 index entries and probes sessions 51 times, however rare or
-- common E is. Keep in step with ../postgres/0014_session_tags_time.sql.
-- (0012 was never used.)
ALTER TABLE session_tags ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;
UPDATE session_tags SET last_seen = (SELECT s.last_seen FROM sessions s
	WHERE s.project_id = session_tags.project_id AND s.id = session_tags.session_id);
CREATE INDEX session_tags_recent ON session_tags (project_id, tag_index, last_seen DESC, session_id);

CREATE TRIGGER session_tags_last_seen AFTER INSERT ON session_tags
BEGIN
	UPDATE session_tags SET last_seen = (SELECT s.last_seen FROM sessions s
		WHERE s.project_id = NEW.project_id AND s.id = NEW.session_id)
	WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER sessions_tags_last_seen AFTER UPDATE OF last_seen ON sessions
WHEN NEW.last_seen <> OLD.last_seen
BEGIN
	UPDATE session_tags SET last_seen = NEW.last_seen
	WHERE project_id = NEW.project_id AND session_id = NEW.id;
END;
