-- See ../sqlite/0007_webhooks.sql.
CREATE TABLE webhook_endpoints (
	id                 TEXT PRIMARY KEY,
	project_id         TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	url                TEXT NOT NULL,
	description        TEXT NOT NULL,
	event_types        TEXT NOT NULL,
	enabled            BOOLEAN NOT NULL,
	disabled_reason    TEXT NOT NULL,
	secret             BYTEA NOT NULL,
	prev_secret        BYTEA,
	prev_secret_until  TIMESTAMPTZ,
	failing_since      TIMESTAMPTZ,
	created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_project_id ON webhook_endpoints (project_id);

CREATE TABLE webhook_messages (
	id              TEXT PRIMARY KEY,
	endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	project_id      TEXT NOT NULL,
	event_type      TEXT NOT NULL,
	payload         BYTEA NOT NULL,
	status          TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	tries           INTEGER NOT NULL, -- attempts since created or resent (retry schedule)
	next_attempt_at TIMESTAMPTZ NOT NULL,
	lease_holder    TEXT NOT NULL,
	lease_until     TIMESTAMPTZ NOT NULL,
	last_status     INTEGER NOT NULL,
	last_error      TEXT NOT NULL,
	created_at      TIMESTAMPTZ NOT NULL,
	delivered_at    TIMESTAMPTZ
);
CREATE INDEX webhook_messages_due ON webhook_messages (status, next_attempt_at);
CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
	message_id  TEXT NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
	attempt     INTEGER NOT NULL,
	at          TIMESTAMPTZ NOT NULL,
	status_code INTEGER NOT NULL,
	error       TEXT NOT NULL,
	latency_ms  BIGINT NOT NULL,
	excerpt     TEXT NOT NULL,
	PRIMARY KEY (message_id, attempt)
);
