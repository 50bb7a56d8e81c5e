-- Signed webhooks: endpoints, the durable outbox of messages (one per
-- event and endpoint, written in the transaction of the change that
-- caused it) and the delivery log. Keep in step with postgres.
CREATE TABLE webhook_endpoints (
	id                 TEXT PRIMARY KEY,
	project_id         TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	url                TEXT NOT NULL,
	description        TEXT NOT NULL,
	event_types        TEXT NOT NULL, -- JSON array; [] = all
	enabled            INTEGER NOT NULL,
	disabled_reason    TEXT NOT NULL,
	secret             BLOB NOT NULL, -- sealed
	prev_secret        BLOB,          -- sealed
	prev_secret_until  INTEGER,
	failing_since      INTEGER,
	created_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_endpoints_project_id ON webhook_endpoints (project_id);

CREATE TABLE webhook_messages (
	id              TEXT PRIMARY KEY,
	endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	project_id      TEXT NOT NULL,
	event_type      TEXT NOT NULL,
	payload         BLOB NOT NULL,
	status          TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	tries           INTEGER NOT NULL, -- attempts since created or resent (retry schedule)
	next_attempt_at INTEGER NOT NULL,
	lease_holder    TEXT NOT NULL,
	lease_until     INTEGER NOT NULL,
	last_status     INTEGER NOT NULL,
	last_error      TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	delivered_at    INTEGER
) STRICT;
CREATE INDEX webhook_messages_due ON webhook_messages (status, next_attempt_at);
CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
	message_id  TEXT NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
	attempt     INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	status_code INTEGER NOT NULL,
	error       TEXT NOT NULL,
	latency_ms  INTEGER NOT NULL,
	excerpt     TEXT NOT NULL,
	PRIMARY KEY (message_id, attempt)
) STRICT;
