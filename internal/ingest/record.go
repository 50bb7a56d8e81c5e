package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Record kinds in the write-ahead log.
const (
	kindEvents  byte = 1 // sealed JSONL of Segment messages (project key)
	kindSegment byte = 2 // one replay segment (meta: project key; body: session key)
)

// record is one write-ahead-log entry. Only ids and sequence numbers are in
// clear; everything recorded (messages, segment meta, segment body) is
// sealed before it reaches the log.
type record struct {
	kind      byte
	id        string // random, binds the sealed parts (AAD id)
	orgID     string
	projectID string
	sessionID string // segments only
	seq       int64  // segments only
	meta      []byte // segments: sealed segmentMeta JSON
	body      []byte // events: sealed JSONL; segments: sealed rrweb events
}

const recordVersion = 1

func (r *record) encode() []byte {
	n := 2 + 5*binary.MaxVarintLen64 + len(r.id) + len(r.orgID) + len(r.projectID) + len(r.sessionID) + len(r.meta) + len(r.body) + binary.MaxVarintLen64
	b := make([]byte, 0, n)
	b = append(b, recordVersion, r.kind)
	for _, s := range []string{r.id, r.orgID, r.projectID, r.sessionID} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, r.seq)
	b = binary.AppendUvarint(b, uint64(len(r.meta)))
	b = append(b, r.meta...)
	return append(b, r.body...)
}

var errBadRecord = errors.New("malformed log record")

// decodeRecord parses a log record. The returned slices alias b.
func decodeRecord(b []byte) (*record, error) {
	if len(b) < 2 || b[0] != recordVersion || (b[1] != kindEvents && b[1] != kindSegment) {
		return nil, errBadRecord
	}
	r := &record{kind: b[1]}
	b = b[2:]
	for _, dst := range []*string{&r.id, &r.orgID, &r.projectID, &r.sessionID} {
		s, rest, err := readBytes(b, 256)
		if err != nil {
			return nil, err
		}
		*dst, b = string(s), rest
	}
	seq, n := binary.Varint(b)
	if n <= 0 {
		return nil, errBadRecord
	}
	r.seq, b = seq, b[n:]
	meta, rest, err := readBytes(b, len(b))
	if err != nil {
		return nil, err
	}
	r.meta, r.body = meta, rest
	if r.id == "" || r.projectID == "" || (r.kind == kindSegment && r.sessionID == "") {
		return nil, fmt.Errorf("%w: missing id", errBadRecord)
	}
	return r, nil
}

func readBytes(b []byte, max int) ([]byte, []byte, error) {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(max) || l > uint64(len(b)-n) {
		return nil, nil, errBadRecord
	}
	return b[n : n+int(l)], b[n+int(l):], nil
}
