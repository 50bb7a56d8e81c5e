-- Ingest: the byte-range index of replay segments packed into blob objects,
-- and each node's write-ahead-log checkpoint. Keep in step with postgres.

CREATE TABLE segments (
	project_id TEXT NOT NULL,
	session_id TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	blob_key   TEXT NOT NULL,
	off        INTEGER NOT NULL,
	len        INTEGER NOT NULL,
	first_ts   INTEGER NOT NULL,
	last_ts    INTEGER NOT NULL,
	events     INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (project_id, session_id, seq),
	FOREIGN KEY (project_id, session_id) REFERENCES sessions (project_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX segments_blob_key ON segments (blob_key);

-- lsn is the write-ahead-log position up to which a node's records are
-- stored; it is written in the same transaction as what it covers.
CREATE TABLE ingest_checkpoints (
	node_id    TEXT PRIMARY KEY,
	lsn        INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
