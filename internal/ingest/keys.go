package ingest

import (
	"bytes"
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/keyring"
)

// project is a project with its unwrapped data key, cached in memory.
type project struct {
	id, orgID string
	dek       *keyring.DataKey
}

// keyCache unwraps project keys once and keeps session keys of active
// sessions (bounded LRU), so the hot path does no key unwrapping.
type keyCache struct {
	store  Store
	master *keyring.Master

	mu       sync.Mutex
	projects map[string]*project
	sessions map[string]*list.Element // "project/session" -> *sessionEntry
	lru      *list.List
	max      int
}

type sessionEntry struct {
	id      string
	sk      *keyring.DataKey
	wrapped []byte // as stored in the session's row
}

func newKeyCache(st Store, m *keyring.Master, maxSessions int) *keyCache {
	return &keyCache{store: st, master: m, projects: map[string]*project{}, sessions: map[string]*list.Element{}, lru: list.New(), max: maxSessions}
}

// ProjectKeyAAD must match provision.ProjectKeyAAD (duplicated to keep
// ingest free of the provisioning service).
func projectKeyAAD(orgID, projectID string) keyring.AAD {
	return keyring.AAD{Org: orgID, Project: projectID, Kind: "project-key", ID: projectID}
}

// SessionKeyAAD binds a wrapped session key to its session.
func SessionKeyAAD(orgID, projectID, sessionID string) keyring.AAD {
	return keyring.AAD{Org: orgID, Project: projectID, Kind: "session-key", ID: sessionID}
}

func (c *keyCache) project(ctx context.Context, id string) (*project, error) {
	c.mu.Lock()
	p := c.projects[id]
	c.mu.Unlock()
	if p != nil {
		return p, nil
	}
	vp, err := c.store.FindProjectByID(ctx, id)
	if err != nil {
		return nil, err
	}
	dek, err := c.master.Unwrap(vp.WrappedKey, projectKeyAAD(vp.OrgID, vp.ID))
	if err != nil {
		return nil, fmt.Errorf("unwrap project key %s: %w", vp.ID, err)
	}
	p = &project{id: vp.ID, orgID: vp.OrgID, dek: dek}
	c.mu.Lock()
	c.projects[id] = p
	c.mu.Unlock()
	return p, nil
}

// sessionKey returns the key of a session and its wrapped form, creating
// the session (with a new wrapped key) in the store on first sight. The
// row is written without waiting for its own fsync
// (CreateSessionDeferred): the wrapped key also travels in every segment's
// log record, which is durable before the segment is acknowledged, and the
// packer restores a row lost in a power cut from it (see restoreFor).
func (c *keyCache) sessionKey(ctx context.Context, p *project, sessionID string, init func(*veil.Session)) (*keyring.DataKey, []byte, error) {
	ck := p.id + "/" + sessionID
	c.mu.Lock()
	if e, ok := c.sessions[ck]; ok {
		c.lru.MoveToFront(e)
		se := e.Value.(*sessionEntry)
		c.mu.Unlock()
		return se.sk, se.wrapped, nil
	}
	c.mu.Unlock()

	aad := SessionKeyAAD(p.orgID, p.id, sessionID)
	s, err := c.store.FindSession(ctx, p.id, sessionID)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		sk := keyring.NewDataKey()
		wrapped, werr := p.dek.WrapKey(sk, aad)
		if werr != nil {
			return nil, nil, werr
		}
		s = &veil.Session{ID: sessionID, ProjectID: p.id, WrappedKey: wrapped}
		if init != nil {
			init(s)
		}
		err = c.store.CreateSessionDeferred(ctx, s)
		if veil.ErrorCode(err) == veil.ECONFLICT { // another request or node won the race
			s, err = c.store.FindSession(ctx, p.id, sessionID)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	sk, err := p.dek.UnwrapKey(s.WrappedKey, aad)
	if err != nil {
		return nil, nil, fmt.Errorf("unwrap session key: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.sessions[ck]; ok { // a concurrent request cached it first
		se := e.Value.(*sessionEntry)
		return se.sk, se.wrapped, nil
	}
	c.sessions[ck] = c.lru.PushFront(&sessionEntry{id: ck, sk: sk, wrapped: s.WrappedKey})
	for c.lru.Len() > c.max {
		old := c.lru.Remove(c.lru.Back()).(*sessionEntry)
		delete(c.sessions, old.id)
	}
	return sk, s.WrappedKey, nil
}

// known reports whether this process has the session's row with wrapped
// as its key: it created or read that row, so the packer's synced commit
// makes it durable, and nothing needs restoring.
func (c *keyCache) known(projectID, sessionID string, wrapped []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.sessions[projectID+"/"+sessionID]
	return ok && bytes.Equal(e.Value.(*sessionEntry).wrapped, wrapped)
}
