package store

import (
	"context"
	"time"

	"github.com/veil-privacy/veil"
)

// CreateEventBatch implements Repository.
func (db *DB) CreateEventBatch(ctx context.Context, b *veil.EventBatch) error {
	switch {
	case b.ProjectID == "":
		return invalidf("Project required.")
	case b.BlobKey == "":
		return invalidf("Blob key required.")
	case b.MaxTime.Before(b.MinTime):
		return invalidf("Batch max time is before its min time.")
	}
	if b.ID == "" {
		b.ID = veil.NewID("evb")
	}
	b.MinTime = b.MinTime.UTC().Truncate(time.Microsecond)
	b.MaxTime = b.MaxTime.UTC().Truncate(time.Microsecond)
	b.CreatedAt = db.now()
	_, err := db.exec(ctx, db.w, `INSERT INTO event_batches
		(id, project_id, blob_key, count, min_time, max_time, bytes, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ID, b.ProjectID, b.BlobKey, b.Count, db.ts(b.MinTime), db.ts(b.MaxTime), b.Bytes, db.ts(b.CreatedAt))
	if err != nil {
		return mapErr(err, "create event batch", "An event batch with this id already exists.", projectNotFound)
	}
	return nil
}

const batchCols = "id, project_id, blob_key, count, min_time, max_time, bytes, created_at"

func scanBatch(s interface{ Scan(...any) error }) (*veil.EventBatch, error) {
	var b veil.EventBatch
	err := s.Scan(&b.ID, &b.ProjectID, &b.BlobKey, &b.Count, timeCol{&b.MinTime}, timeCol{&b.MaxTime},
		&b.Bytes, timeCol{&b.CreatedAt})
	return &b, err
}

// ListEventBatches implements Repository.
func (db *DB) ListEventBatches(ctx context.Context, projectID string, since, until time.Time) ([]*veil.EventBatch, error) {
	query := "SELECT " + batchCols + " FROM event_batches WHERE project_id = ? AND max_time >= ?"
	args := []any{projectID, db.ts(since)}
	if !until.IsZero() {
		query += " AND min_time < ?"
		args = append(args, db.ts(until))
	}
	rows, err := db.query(ctx, db.sql, query+" ORDER BY min_time, id", args...)
	if err != nil {
		return nil, wrap("list event batches", err)
	}
	return collect(rows, scanBatch, "list event batches")
}
