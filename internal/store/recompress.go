package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// PackCursor is a position in a project's packs, in the order they were
// written: (created_at of their segments, blob key).
type PackCursor struct {
	CreatedAt time.Time
	BlobKey   string
}

// ListPacksAfter returns up to limit pack objects of the project written
// after cur and no later than upto, oldest first. A pack's position is its
// segments' created_at (one per pack: the packer's commit time, kept when
// a pack is rewritten).
func (db *DB) ListPacksAfter(ctx context.Context, projectID string, cur PackCursor, upto time.Time, limit int) ([]PackCursor, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	at := db.ts(cur.CreatedAt)
	rows, err := db.query(ctx, db.sql, `SELECT created_at, blob_key FROM segments
		WHERE project_id = ? AND created_at <= ? AND (created_at > ? OR (created_at = ? AND blob_key > ?))
		GROUP BY created_at, blob_key ORDER BY created_at, blob_key LIMIT ?`,
		projectID, db.ts(upto), at, at, cur.BlobKey, limit)
	if err != nil {
		return nil, wrap("list packs", err)
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (PackCursor, error) {
		var c PackCursor
		err := r.Scan(timeCol{&c.CreatedAt}, &c.BlobKey)
		return c, err
	}, "list packs")
}

// RecompressCursor returns how far recompression has gone through the
// project's packs (the zero cursor when it has not started).
func (db *DB) RecompressCursor(ctx context.Context, projectID string) (PackCursor, error) {
	var c PackCursor
	err := db.queryRow(ctx, db.sql, "SELECT created_at, blob_key FROM recompress_cursors WHERE project_id = ?", projectID).
		Scan(timeCol{&c.CreatedAt}, &c.BlobKey)
	if errors.Is(err, sql.ErrNoRows) {
		return PackCursor{CreatedAt: time.UnixMicro(0).UTC()}, nil
	}
	return c, wrap("read recompress cursor", err)
}

// SetRecompressCursor records that recompression is done up to c.
func (db *DB) SetRecompressCursor(ctx context.Context, projectID string, c PackCursor) error {
	_, err := db.exec(ctx, db.w, `INSERT INTO recompress_cursors (project_id, created_at, blob_key) VALUES (?, ?, ?)
		ON CONFLICT (project_id) DO UPDATE SET created_at = excluded.created_at, blob_key = excluded.blob_key`,
		projectID, db.ts(c.CreatedAt), c.BlobKey)
	return wrap("save recompress cursor", err)
}

// MarkPackGarbage lists a pack object for compaction before a job
// rewrites it, so that a crash between writing the new pack and deleting
// the old one leaves the hourly compaction to finish (a no-op when the
// pack is listed already).
func (db *DB) MarkPackGarbage(ctx context.Context, blobKey, projectID string) error {
	_, err := db.exec(ctx, db.w, `INSERT INTO pack_garbage (blob_key, project_id, created_at) VALUES (?, ?, ?)
		ON CONFLICT (blob_key) DO NOTHING`, blobKey, projectID, db.ts(db.now()))
	return wrap("record pack garbage", err)
}
