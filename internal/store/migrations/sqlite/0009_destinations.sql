-- Customer destinations (S3-compatible, SFTP) and the push state of each
-- (destination, session, part). Keep in step with postgres.
--
-- destination_pushes rows that are done are also the stub of a recording
-- deleted under do_not_store: they say where it went. They have no foreign
-- key to destinations so the stub outlives a removed destination.
CREATE TABLE destinations (
	id              TEXT PRIMARY KEY,
	project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	name            TEXT NOT NULL,
	kind            TEXT NOT NULL,   -- s3 | sftp
	mode            TEXT NOT NULL,   -- copy | do_not_store
	config          TEXT NOT NULL,   -- JSON, never secrets
	secret          BLOB NOT NULL,   -- sealed with the project data key
	age_recipient   TEXT NOT NULL,   -- '' = objects are not age-encrypted
	created_at      INTEGER NOT NULL,
	failing_since   INTEGER,
	alert           TEXT NOT NULL,   -- '' = no alert; else a short code
	alert_at        INTEGER,
	last_success_at INTEGER
) STRICT;
CREATE INDEX destinations_project_id ON destinations (project_id);

CREATE TABLE destination_pushes (
	destination_id  TEXT NOT NULL,
	project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	session_id      TEXT NOT NULL,
	part            INTEGER NOT NULL,
	after_ts        INTEGER NOT NULL, -- covers segments packed after this …
	upto_ts         INTEGER NOT NULL, -- … and up to this (segments.created_at)
	state           TEXT NOT NULL,    -- pending | done
	attempts        INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	last_error      TEXT NOT NULL,    -- short code
	mode            TEXT NOT NULL,
	location        TEXT NOT NULL,    -- e.g. s3://bucket/prefix/ (no credentials)
	prefix          TEXT NOT NULL,    -- object prefix of the session
	objects         TEXT NOT NULL,    -- JSON [{name,size,sha256}]
	bytes           INTEGER NOT NULL,
	sha256          TEXT NOT NULL,    -- of the events object as stored
	encrypted       INTEGER NOT NULL, -- age
	created_at      INTEGER NOT NULL,
	pushed_at       INTEGER,
	PRIMARY KEY (destination_id, session_id, part)
) STRICT;
CREATE INDEX destination_pushes_session ON destination_pushes (project_id, session_id);
CREATE INDEX destination_pushes_due ON destination_pushes (destination_id, state, next_attempt_at);
-- The push job looks for sessions by when their segments were packed.
CREATE INDEX segments_project_created ON segments (project_id, created_at);
