package lifecycle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/store"
)

// Anonymizer writes an anonymized copy of one Veil's recorded data into
// another (empty) one, for staging: organisations and projects keep their
// ids and names; user ids, anonymous ids, traits, IPs and every other
// free-text string of events become consistent fakes (faker); replays
// keep their structure with all text masked (rrmask.go). Every project
// gets a new data key under the copy's master key, every session a new
// session key, and blind user indexes are recomputed for the fake ids.
// Accounts, API tokens, write keys, webhooks and the audit log are not
// copied.
type Anonymizer struct {
	SrcStore  *store.DB
	SrcBlobs  blob.Bucket
	SrcMaster *keyring.Master
	DstStore  *store.DB
	DstBlobs  blob.Bucket
	DstMaster *keyring.Master
	// Progress, when set, receives a line now and then for long runs.
	Progress func(format string, args ...any)
}

// AnonymizeResult counts what was copied.
type AnonymizeResult struct {
	Orgs     int   `json:"orgs"`
	Projects int   `json:"projects"`
	Sessions int   `json:"sessions"`
	Segments int   `json:"segments"`
	Events   int64 `json:"events"`
	Batches  int   `json:"event_batches"`
}

func (a *Anonymizer) progress(format string, args ...any) {
	if a.Progress != nil {
		a.Progress(format, args...)
	}
}

// anonNode is the checkpoint node id of the copy's CommitPack calls.
const anonNode = "anonymize"

// Run copies everything. The HMAC key of the fakes lives only in memory
// for the duration of Run.
func (a *Anonymizer) Run(ctx context.Context) (*AnonymizeResult, error) {
	f := newFaker()
	res := &AnonymizeResult{}
	projects, err := a.SrcStore.ListProjects(ctx, "")
	if err != nil {
		return nil, err
	}
	orgs := map[string]bool{}
	for i, p := range projects {
		if !orgs[p.OrgID] {
			o, err := a.SrcStore.FindOrgByID(ctx, p.OrgID)
			if err != nil {
				return nil, err
			}
			if err := a.DstStore.CreateOrg(ctx, &veil.Org{ID: o.ID, Name: o.Name}); err != nil {
				return nil, fmt.Errorf("create org %s: %w", o.ID, err)
			}
			orgs[p.OrgID] = true
			res.Orgs++
		}
		a.progress("project %d/%d %s: events", i+1, len(projects), p.ID)
		if err := a.project(ctx, f, p, res); err != nil {
			return nil, fmt.Errorf("project %s: %w", p.ID, err)
		}
		res.Projects++
	}
	return res, nil
}

type keyPair struct {
	src, dst *keyring.DataKey
	org, id  string
}

func (a *Anonymizer) project(ctx context.Context, f *faker, p *veil.Project, res *AnonymizeResult) error {
	src, err := a.SrcMaster.Unwrap(p.WrappedKey, ingest.ProjectKeyAAD(p.OrgID, p.ID))
	if err != nil {
		return fmt.Errorf("unwrap project key: %w", err)
	}
	dst := keyring.NewDataKey()
	wrapped, err := a.DstMaster.Wrap(dst, ingest.ProjectKeyAAD(p.OrgID, p.ID))
	if err != nil {
		return err
	}
	if err := a.DstStore.CreateProject(ctx, &veil.Project{ID: p.ID, OrgID: p.OrgID, Name: p.Name, WrappedKey: wrapped}); err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	k := &keyPair{src: src, dst: dst, org: p.OrgID, id: p.ID}
	batches, err := a.SrcStore.ListEventBatches(ctx, p.ID, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	// Pass 1: learn every personal value (ids, traits), so that URL path
	// segments equal to one are faked too, and map the sessions' blind
	// indexes back to ids.
	index := map[string]string{} // source blind index → user id
	if err := a.eachMessage(ctx, k, batches, func(m *personal) {
		f.learn(m)
		for _, id := range []any{m.UserID, m.AnonymousID} {
			if id := idString(id); id != "" {
				index[src.BlindIndex("user_id", id)] = id
			}
		}
	}); err != nil {
		return err
	}
	// Pass 2: the events, batch by batch, re-sealed with the new key; the
	// index rows are committed 100 batches at a time.
	commit := &veil.PackCommit{NodeID: anonNode}
	flush := func() error {
		if len(commit.Batches) == 0 {
			return nil
		}
		_, err := a.DstStore.CommitPack(ctx, commit)
		commit = &veil.PackCommit{NodeID: anonNode}
		return err
	}
	for bi, b := range batches {
		var out []byte
		err := a.eachEntry(ctx, k, b, func(entryID string, lines [][]byte) error {
			var buf bytes.Buffer
			for _, l := range lines {
				m, err := decodeMessage(l)
				if err != nil {
					return err
				}
				f.Event(m)
				js, err := json.Marshal(m)
				if err != nil {
					return err
				}
				buf.Write(js)
				buf.WriteByte('\n')
			}
			sealed, err := dst.Seal(buf.Bytes(), ingest.EventsAAD(p.OrgID, p.ID, entryID))
			if err != nil {
				return err
			}
			out = ingest.AppendBatchEntry(out, entryID, sealed)
			return nil
		})
		if err != nil {
			return err
		}
		id := veil.NewID("evb")
		key := fmt.Sprintf("p/%s/events/%s/%s", p.ID, b.MinTime.UTC().Format("2006-01-02"), id)
		if err := a.DstBlobs.Put(ctx, key, out); err != nil {
			return err
		}
		commit.Batches = append(commit.Batches, &veil.EventBatch{ID: id, ProjectID: p.ID,
			BlobKey: key, Count: b.Count, MinTime: b.MinTime, MaxTime: b.MaxTime, Bytes: int64(len(out))})
		if len(commit.Batches) >= 100 {
			if err := flush(); err != nil {
				return err
			}
		}
		res.Batches++
		res.Events += int64(b.Count)
		if (bi+1)%500 == 0 {
			a.progress("project %s: %d/%d event batches", p.ID, bi+1, len(batches))
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return a.sessions(ctx, f, k, index, res)
}

func idString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

func decodeMessage(l []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(l))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("stored message is not a JSON object: %w", err)
	}
	return m, nil
}

// eachEntry opens every entry of one event batch object.
func (a *Anonymizer) eachEntry(ctx context.Context, k *keyPair, b *veil.EventBatch, fn func(entryID string, lines [][]byte) error) error {
	obj, err := a.SrcBlobs.Get(ctx, b.BlobKey)
	if err != nil {
		return fmt.Errorf("read event batch %s: %w", b.ID, err)
	}
	return ingest.EachBatchEntry(obj, func(id string, sealed []byte) error {
		plain, err := k.src.Open(sealed, ingest.EventsAAD(k.org, k.id, id))
		if err != nil {
			return fmt.Errorf("open event batch %s: %w", b.ID, err)
		}
		return fn(id, splitLines(plain))
	})
}

func (a *Anonymizer) eachMessage(ctx context.Context, k *keyPair, batches []*veil.EventBatch, fn func(*personal)) error {
	for _, b := range batches {
		err := a.eachEntry(ctx, k, b, func(id string, lines [][]byte) error {
			for _, l := range lines {
				var m personal
				if err := json.Unmarshal(l, &m); err != nil {
					return fmt.Errorf("stored message is not a JSON object: %w", err)
				}
				fn(&m)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sessions copies every session of a project: segments opened with the
// source session key, masked, sealed with a new session key. Sessions are
// written in groups (one pack object, one CreateSessions and one
// CommitPack per group), so a large copy is not one transaction per row.
func (a *Anonymizer) sessions(ctx context.Context, f *faker, k *keyPair, index map[string]string, res *AnonymizeResult) error {
	list, err := a.SrcStore.ListSessionsSeenBefore(ctx, k.id, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 1<<30)
	if err != nil {
		return err
	}
	var (
		group   []*veil.Session
		pack    bytes.Buffer
		commit  = &veil.PackCommit{NodeID: anonNode}
		packKey = fmt.Sprintf("p/%s/packs/%s", k.id, veil.NewID("pk"))
	)
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		if pack.Len() > 0 {
			if err := a.DstBlobs.Put(ctx, packKey, pack.Bytes()); err != nil {
				return err
			}
		}
		if err := a.DstStore.CreateSessions(ctx, group); err != nil {
			return fmt.Errorf("create sessions: %w", err)
		}
		if len(commit.Segments) > 0 {
			if _, err := a.DstStore.CommitPack(ctx, commit); err != nil {
				return err
			}
		}
		group, commit = nil, &veil.PackCommit{NodeID: anonNode}
		pack.Reset()
		packKey = fmt.Sprintf("p/%s/packs/%s", k.id, veil.NewID("pk"))
		return nil
	}
	for si, s := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		sk, err := k.src.UnwrapKey(s.WrappedKey, ingest.SessionKeyAAD(k.org, k.id, s.ID))
		if err != nil {
			return fmt.Errorf("session %s: unwrap key: %w", s.ID, err)
		}
		nk := keyring.NewDataKey()
		wrapped, err := k.dst.WrapKey(nk, ingest.SessionKeyAAD(k.org, k.id, s.ID))
		if err != nil {
			return err
		}
		userIndex := ""
		if s.UserIndex != "" {
			id, ok := index[s.UserIndex]
			if !ok {
				id = "unknown:" + s.UserIndex // consistent per source user, never the id
			}
			userIndex = k.dst.BlindIndex("user_id", f.ID(id))
		}
		urlPath := ""
		if s.URLPath != "" {
			urlPath = f.URL(s.URLPath, mask)
		}
		group = append(group, &veil.Session{ID: s.ID, ProjectID: k.id, WrappedKey: wrapped, UserIndex: userIndex, FirstSeen: s.FirstSeen,
			LastSeen: s.LastSeen, URLPath: urlPath, UserAgent: s.UserAgent, Errors: s.Errors})
		segs, err := a.SrcStore.ListSegments(ctx, k.id, s.ID)
		if err != nil {
			return err
		}
		for _, sg := range segs {
			sealed, err := a.SrcBlobs.GetRange(ctx, sg.BlobKey, sg.Offset, sg.Length)
			if err != nil {
				return fmt.Errorf("session %s segment %d: %w", s.ID, sg.Seq, err)
			}
			plain, err := sk.Open(sealed, ingest.SegmentAAD(k.org, k.id, s.ID, sg.Seq))
			if err != nil {
				return fmt.Errorf("session %s segment %d: %w", s.ID, sg.Seq, err)
			}
			masked, err := f.Replay(plain)
			if err != nil {
				return fmt.Errorf("session %s segment %d: %w", s.ID, sg.Seq, err)
			}
			out, err := nk.Seal(masked, ingest.SegmentAAD(k.org, k.id, s.ID, sg.Seq))
			if err != nil {
				return err
			}
			commit.Segments = append(commit.Segments, veil.PackedSegment{Segment: veil.Segment{ProjectID: k.id, SessionID: s.ID,
				Seq: sg.Seq, BlobKey: packKey, Offset: int64(pack.Len()), Length: int64(len(out)),
				FirstTS: sg.FirstTS, LastTS: sg.LastTS, Events: sg.Events}})
			pack.Write(out)
		}
		res.Sessions++
		res.Segments += len(segs)
		if len(group) >= 200 || pack.Len() >= 32<<20 {
			if err := flush(); err != nil {
				return err
			}
		}
		if (si+1)%200 == 0 {
			a.progress("project %s: %d/%d sessions", k.id, si+1, len(list))
		}
	}
	return flush()
}
