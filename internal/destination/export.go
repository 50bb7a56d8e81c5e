package destination

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/store"
)

// ManifestFormat names the manifest's format version.
const ManifestFormat = "veil.recording.v1"

// Manifest is manifest.json of one pushed part: session metadata, the
// objects with their sizes and checksums, and how they are encrypted. It
// holds ids, times and counts only; the recording itself is the events
// object.
type Manifest struct {
	Format      string           `json:"format"`
	VeilVersion string           `json:"veil_version"`
	ProjectID   string           `json:"project_id"`
	SessionID   string           `json:"session_id"`
	Part        int              `json:"part"`
	FirstSeq    int64            `json:"first_seq"`
	LastSeq     int64            `json:"last_seq"`
	Segments    int              `json:"segments"`
	Events      int64            `json:"events"`
	StartedAt   time.Time        `json:"started_at"` // first rrweb event of the part
	EndedAt     time.Time        `json:"ended_at"`   // last rrweb event of the part
	Encryption  string           `json:"encryption"` // "age" (X25519 recipient) or "none"
	Objects     []ManifestObject `json:"objects"`
	CreatedAt   time.Time        `json:"created_at"`
}

// ManifestObject is one pushed object. Size and SHA256 are of the bytes as
// stored (after age encryption, when on).
type ManifestObject struct {
	Name    string `json:"name"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	Content string `json:"content,omitempty"`
}

// exported is one part of a session, decrypted and gzipped.
type exported struct {
	session *veil.Session
	segs    []*veil.Segment
	gz      []byte
}

// exportPart opens the part's segments with the session key and writes
// them as one JSON array of rrweb events (the format of veil export
// replay), gzipped, in memory. errSessionGone if the session was deleted.
func (s *Service) exportPart(ctx context.Context, pk *projectKey, p *store.DestinationPush) (*exported, error) {
	sess, err := s.Store.FindSession(ctx, p.ProjectID, p.SessionID)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		return nil, errSessionGone
	} else if err != nil {
		return nil, err
	}
	all, err := s.Store.ListSegments(ctx, p.ProjectID, p.SessionID)
	if err != nil {
		return nil, err
	}
	var segs []*veil.Segment
	for _, sg := range all {
		if sg.CreatedAt.After(p.After) && !sg.CreatedAt.After(p.Upto) {
			segs = append(segs, sg)
		}
	}
	if len(segs) == 0 {
		return nil, errSessionGone
	}
	sk, err := pk.dek.UnwrapKey(sess.WrappedKey, ingest.SessionKeyAAD(pk.orgID, pk.id, p.SessionID))
	if err != nil {
		return nil, fmt.Errorf("unwrap session key: %w", err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("["))
	first := true
	for _, sg := range segs {
		sealed, err := s.Blobs.GetRange(ctx, sg.BlobKey, sg.Offset, sg.Length)
		if err != nil {
			return nil, fmt.Errorf("read segment %d: %w", sg.Seq, err)
		}
		plain, err := sk.Open(sealed, ingest.SegmentAAD(pk.orgID, pk.id, p.SessionID, sg.Seq))
		if err != nil {
			return nil, fmt.Errorf("open segment %d: %w", sg.Seq, err)
		}
		inner := bytes.TrimSpace(plain)
		inner = bytes.TrimSuffix(bytes.TrimPrefix(inner, []byte("[")), []byte("]"))
		if len(bytes.TrimSpace(inner)) == 0 {
			continue
		}
		if !first {
			zw.Write([]byte(","))
		}
		first = false
		zw.Write(inner)
	}
	zw.Write([]byte("]\n"))
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip events: %w", err)
	}
	return &exported{session: sess, segs: segs, gz: buf.Bytes()}, nil
}

func (s *Service) manifest(pk *projectKey, p *store.DestinationPush, part *exported, enc bool, obj ManifestObject) *Manifest {
	m := &Manifest{Format: ManifestFormat, VeilVersion: s.Version, ProjectID: pk.id, SessionID: p.SessionID,
		Part: p.Part, Segments: len(part.segs), Encryption: "none", Objects: []ManifestObject{obj},
		CreatedAt: s.now().UTC()}
	if enc {
		m.Encryption = "age"
	}
	for i, sg := range part.segs {
		if i == 0 || sg.Seq < m.FirstSeq {
			m.FirstSeq = sg.Seq
		}
		if sg.Seq > m.LastSeq {
			m.LastSeq = sg.Seq
		}
		if m.StartedAt.IsZero() || sg.FirstTS.Before(m.StartedAt) {
			m.StartedAt = sg.FirstTS.UTC()
		}
		if sg.LastTS.After(m.EndedAt) {
			m.EndedAt = sg.LastTS.UTC()
		}
		m.Events += sg.Events
	}
	return m
}
