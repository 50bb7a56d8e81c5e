package veil

import "time"

// Segment is the index entry of one replay segment: a sealed byte range
// inside a packed blob object. (Project, Session, Seq) is unique, which
// makes segment upload idempotent.
type Segment struct {
	ProjectID string    `json:"project_id"`
	SessionID string    `json:"session_id"`
	Seq       int64     `json:"seq"`
	BlobKey   string    `json:"blob_key"`
	Offset    int64     `json:"offset"`
	Length    int64     `json:"length"`
	FirstTS   time.Time `json:"first_ts"` // first rrweb event time
	LastTS    time.Time `json:"last_ts"`
	Events    int64     `json:"events"`
	CreatedAt time.Time `json:"created_at"`
}

// SegmentMeta is what a newly stored segment adds to its session.
type SegmentMeta struct {
	Errors    int64
	URLPath   string   // set only while the session has none
	UserAgent string   // set only while the session has none
	UserIndex string   // set only while the session has none
	Pages     int64    // page loads and navigations (rrweb Meta events)
	Tags      []string // blind indexes of the custom event names seen
}

// PackCommit is one unit of work of the ingest packer: batches and segments
// already written to the blob store, recorded together with the write-ahead
// log position they cover, in one transaction, so a crash either keeps all
// of it or none and nothing is stored twice.
type PackCommit struct {
	Batches  []*EventBatch
	Segments []PackedSegment
	// Restore are sessions to create, before the segments are indexed,
	// when they are missing and were not deleted: ingest writes a new
	// session's row without waiting for it to be synced and keeps the
	// wrapped key in each segment's log record, so a row lost in a power
	// cut is made again from the log.
	Restore []*Session
	NodeID  string
	LSN     uint64
}

// PackedSegment is a segment plus what it adds to its session.
type PackedSegment struct {
	Segment
	Meta SegmentMeta
}
