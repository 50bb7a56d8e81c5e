-- Destinations can be edited in place (issue 9): updated_at is when an
-- admin last changed a destination's settings or secrets. Keep in step
-- with ../postgres/0016_destination_updated.sql.
ALTER TABLE destinations ADD COLUMN updated_at INTEGER;
