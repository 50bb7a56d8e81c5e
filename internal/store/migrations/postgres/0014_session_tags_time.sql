-- Session list (issue 8): the custom event filter in time order. Each
-- session_tags row carries its session's last_seen, kept equal by the two
-- triggers below (whatever code inserts tags or moves last_seen), so
-- "sessions that saw event E, newest activity first" is one range of
-- session_tags_recent read in order with keyset pagination: a page of 50
-- reads 51 index entries and probes sessions 51 times, however rare or
-- common E is. Keep in step with ../sqlite/0014_session_tags_time.sql.
-- (0012 was never used.)
-- session_id takes sessions.id's collation: with the default one the join
-- could not use sessions' primary key, and ids would sort differently from
-- the rest of the list.
ALTER TABLE session_tags ALTER COLUMN session_id TYPE TEXT COLLATE "C";
ALTER TABLE session_tags ADD COLUMN last_seen TIMESTAMPTZ;
UPDATE session_tags t SET last_seen = s.last_seen FROM sessions s
	WHERE s.project_id = t.project_id AND s.id = t.session_id;
ALTER TABLE session_tags ALTER COLUMN last_seen SET NOT NULL;
CREATE INDEX session_tags_recent ON session_tags (project_id, tag_index, last_seen DESC, session_id);

-- BEFORE triggers run before the NOT NULL check.
CREATE FUNCTION session_tags_set_last_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	SELECT s.last_seen INTO NEW.last_seen FROM sessions s
	WHERE s.project_id = NEW.project_id AND s.id = NEW.session_id;
	RETURN NEW;
END $$;
CREATE TRIGGER session_tags_last_seen BEFORE INSERT ON session_tags
	FOR EACH ROW EXECUTE FUNCTION session_tags_set_last_seen();

CREATE FUNCTION sessions_copy_last_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE session_tags SET last_seen = NEW.last_seen
	WHERE project_id = NEW.project_id AND session_id = NEW.id;
	RETURN NULL;
END $$;
CREATE TRIGGER sessions_tags_last_seen AFTER UPDATE OF last_seen ON sessions
	FOR EACH ROW WHEN (OLD.last_seen IS DISTINCT FROM NEW.last_seen)
	EXECUTE FUNCTION sessions_copy_last_seen();
