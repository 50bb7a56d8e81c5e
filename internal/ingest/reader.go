package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/keyring"
)

// Reader reads back what ingest stored, decrypted: the operator's export
// commands and the tests use it to see exactly what was kept.
type Reader struct {
	Store Store
	Blobs blob.Bucket
	keys  *keyCache
}

// NewReader returns a Reader that unwraps keys with master.
func NewReader(st Store, blobs blob.Bucket, master *keyring.Master) *Reader {
	return &Reader{Store: st, Blobs: blobs, keys: newKeyCache(st, master, 1024)}
}

// Events writes the project's stored messages whose batch overlaps
// [since, until) to w as JSON lines, batch by batch in time order.
func (rd *Reader) Events(ctx context.Context, projectID string, since, until time.Time, w io.Writer) (int, error) {
	p, err := rd.keys.project(ctx, projectID)
	if err != nil {
		return 0, err
	}
	batches, err := rd.Store.ListEventBatches(ctx, projectID, since, until)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range batches {
		obj, err := rd.Blobs.Get(ctx, b.BlobKey)
		if err != nil {
			return n, fmt.Errorf("read event batch %s: %w", b.ID, err)
		}
		err = eachBatchEntry(obj, func(id string, sealed []byte) error {
			plain, err := p.dek.Open(sealed, eventsAAD(p.orgID, p.id, id))
			if err != nil {
				return fmt.Errorf("open event batch %s: %w", b.ID, err)
			}
			n += bytes.Count(plain, []byte{'\n'})
			_, err = w.Write(plain)
			return err
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Replay writes a session's rrweb events, segment after segment in
// sequence order, as one JSON array.
func (rd *Reader) Replay(ctx context.Context, projectID, sessionID string, w io.Writer) (int, error) {
	p, err := rd.keys.project(ctx, projectID)
	if err != nil {
		return 0, err
	}
	s, err := rd.Store.FindSession(ctx, projectID, sessionID)
	if err != nil {
		return 0, err
	}
	sk, err := p.dek.UnwrapKey(s.WrappedKey, SessionKeyAAD(p.orgID, p.id, sessionID))
	if err != nil {
		return 0, fmt.Errorf("unwrap session key: %w", err)
	}
	segs, err := rd.Store.ListSegments(ctx, projectID, sessionID)
	if err != nil {
		return 0, err
	}
	if _, err := io.WriteString(w, "["); err != nil {
		return 0, err
	}
	first := true
	for _, sg := range segs {
		sealed, err := rd.Blobs.GetRange(ctx, sg.BlobKey, sg.Offset, sg.Length)
		if err != nil {
			return 0, fmt.Errorf("read segment %d: %w", sg.Seq, err)
		}
		plain, err := sk.Open(sealed, SegmentAAD(p.orgID, p.id, sessionID, sg.Seq))
		if err != nil {
			return 0, fmt.Errorf("open segment %d: %w", sg.Seq, err)
		}
		inner := bytes.TrimSpace(plain)
		inner = bytes.TrimSuffix(bytes.TrimPrefix(inner, []byte("[")), []byte("]"))
		if len(bytes.TrimSpace(inner)) == 0 {
			continue
		}
		if !first {
			io.WriteString(w, ",")
		}
		first = false
		if _, err := w.Write(inner); err != nil {
			return 0, err
		}
	}
	_, err = io.WriteString(w, "]\n")
	return len(segs), err
}
