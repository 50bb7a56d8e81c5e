-- Destinations can be paused (issue 9): no pushes while paused_at is set;
-- recordings stay in Veil meanwhile. Keep in step with
-- ../postgres/0015_destination_pause.sql.
ALTER TABLE destinations ADD COLUMN paused_at INTEGER;
