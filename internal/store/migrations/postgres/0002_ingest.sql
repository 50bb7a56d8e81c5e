-- Ingest: the byte-range index of replay segments packed into blob objects,
-- and each node's write-ahead-log checkpoint. Keep in step with sqlite.

CREATE TABLE segments (
	project_id TEXT NOT NULL,
	session_id TEXT COLLATE "C" NOT NULL,
	seq        BIGINT NOT NULL,
	blob_key   TEXT NOT NULL,
	off        BIGINT NOT NULL,
	len        BIGINT NOT NULL,
	first_ts   TIMESTAMPTZ NOT NULL,
	last_ts    TIMESTAMPTZ NOT NULL,
	events     BIGINT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (project_id, session_id, seq),
	FOREIGN KEY (project_id, session_id) REFERENCES sessions (project_id, id) ON DELETE CASCADE
);
CREATE INDEX segments_blob_key ON segments (blob_key);

CREATE TABLE ingest_checkpoints (
	node_id    TEXT PRIMARY KEY,
	lsn        BIGINT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
