-- See ../sqlite/0009_destinations.sql.
CREATE TABLE destinations (
	id              TEXT PRIMARY KEY,
	project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	name            TEXT NOT NULL,
	kind            TEXT NOT NULL,
	mode            TEXT NOT NULL,
	config          TEXT NOT NULL,
	secret          BYTEA NOT NULL,
	age_recipient   TEXT NOT NULL,
	created_at      TIMESTAMPTZ NOT NULL,
	failing_since   TIMESTAMPTZ,
	alert           TEXT NOT NULL,
	alert_at        TIMESTAMPTZ,
	last_success_at TIMESTAMPTZ
);
CREATE INDEX destinations_project_id ON destinations (project_id);

CREATE TABLE destination_pushes (
	destination_id  TEXT NOT NULL,
	project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	session_id      TEXT NOT NULL,
	part            INTEGER NOT NULL,
	after_ts        TIMESTAMPTZ NOT NULL,
	upto_ts         TIMESTAMPTZ NOT NULL,
	state           TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	next_attempt_at TIMESTAMPTZ NOT NULL,
	last_error      TEXT NOT NULL,
	mode            TEXT NOT NULL,
	location        TEXT NOT NULL,
	prefix          TEXT NOT NULL,
	objects         TEXT NOT NULL,
	bytes           BIGINT NOT NULL,
	sha256          TEXT NOT NULL,
	encrypted       BOOLEAN NOT NULL,
	created_at      TIMESTAMPTZ NOT NULL,
	pushed_at       TIMESTAMPTZ,
	PRIMARY KEY (destination_id, session_id, part)
);
CREATE INDEX destination_pushes_session ON destination_pushes (project_id, session_id);
CREATE INDEX destination_pushes_due ON destination_pushes (destination_id, state, next_attempt_at);
-- The push job looks for sessions by when their segments were packed.
CREATE INDEX segments_project_created ON segments (project_id, created_at);
