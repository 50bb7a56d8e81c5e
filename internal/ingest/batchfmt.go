package ingest

import (
	"encoding/binary"
	"errors"
	"time"
)

// An event batch object is the sealed log records of one packer round for
// one project, stored as they were sealed at ingest (no second compression
// or encryption):
//
//	"VEB1" { uvarint(len(id)) id uvarint(len(sealed)) sealed }*
//
// Each entry opens with the project key and eventsAAD(org, project, id).

var batchMagic = []byte("VEB1")

var errBadBatch = errors.New("malformed event batch object")

func appendBatchEntry(b []byte, id string, sealed []byte) []byte {
	if len(b) == 0 {
		b = append(b, batchMagic...)
	}
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	b = binary.AppendUvarint(b, uint64(len(sealed)))
	return append(b, sealed...)
}

// eachBatchEntry calls fn for each entry of a batch object.
func eachBatchEntry(b []byte, fn func(id string, sealed []byte) error) error {
	if len(b) < len(batchMagic) || string(b[:len(batchMagic)]) != string(batchMagic) {
		return errBadBatch
	}
	b = b[len(batchMagic):]
	for len(b) > 0 {
		id, rest, err := readBytes(b, 256)
		if err != nil {
			return errBadBatch
		}
		sealed, rest, err := readBytes(rest, len(rest))
		if err != nil {
			return errBadBatch
		}
		if err := fn(string(id), sealed); err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// eventsMeta is the clear part of an events log record: how many messages
// it holds and their time range, the same figures the event_batches table
// keeps in clear. Messages themselves are only in the sealed body.
type eventsMeta struct {
	count    uint64
	min, max time.Time
}

func (m eventsMeta) encode() []byte {
	b := make([]byte, 24)
	binary.BigEndian.PutUint64(b[0:], m.count)
	binary.BigEndian.PutUint64(b[8:], uint64(m.min.UnixMicro()))
	binary.BigEndian.PutUint64(b[16:], uint64(m.max.UnixMicro()))
	return b
}

func decodeEventsMeta(b []byte) (eventsMeta, error) {
	if len(b) != 24 {
		return eventsMeta{}, errBadRecord
	}
	return eventsMeta{
		count: binary.BigEndian.Uint64(b[0:]),
		min:   time.UnixMicro(int64(binary.BigEndian.Uint64(b[8:]))),
		max:   time.UnixMicro(int64(binary.BigEndian.Uint64(b[16:]))),
	}, nil
}
