-- Recompression of packed replay segments (S2 at ingest, zstd at rest):
-- how far each project's packs have been gone through, as the keyset
-- (segments.created_at, blob_key) of the last pack done. Keep in step with
-- ../sqlite/0017_recompress.sql.
CREATE TABLE recompress_cursors (
	project_id TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
	created_at TIMESTAMPTZ NOT NULL,
	blob_key   TEXT NOT NULL
);
