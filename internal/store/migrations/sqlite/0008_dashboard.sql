-- Dashboard: the session list sorted by duration (longest first) with
-- keyset paging. The expression must match store.durExpr exactly for
-- SQLite to use the index. Keep in step with ../postgres/0008_dashboard.sql.
CREATE INDEX sessions_project_duration ON sessions (project_id, (last_seen - first_seen) DESC, id);

-- The session list filtered by URL path, newest first.
CREATE INDEX sessions_project_path ON sessions (project_id, url_path, last_seen);
