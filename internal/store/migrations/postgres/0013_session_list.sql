-- Session list (issue 8): pages viewed per session, the custom events seen
-- in it (keyed blind indexes of their names, never the names), and an index
-- for the "has errors" filter and its count. Keep in step with
-- ../sqlite/0013_session_list.sql.
ALTER TABLE sessions ADD COLUMN pages BIGINT NOT NULL DEFAULT 0;

CREATE TABLE session_tags (
	project_id TEXT NOT NULL,
	tag_index  TEXT NOT NULL,
	session_id TEXT NOT NULL,
	PRIMARY KEY (project_id, tag_index, session_id),
	FOREIGN KEY (project_id, session_id) REFERENCES sessions (project_id, id) ON DELETE CASCADE
);
CREATE INDEX session_tags_session ON session_tags (project_id, session_id);

CREATE INDEX sessions_project_errors ON sessions (project_id, last_seen) WHERE errors > 0;
