package auth

import (
	"context"
	"time"

	"github.com/veil-privacy/veil"
)

// SessionStore is the storage browser sessions need.
type SessionStore interface {
	CreateWebSession(ctx context.Context, s *veil.WebSession) error
	FindWebSessionByHash(ctx context.Context, hash []byte) (*veil.WebSession, error)
	TouchWebSession(ctx context.Context, id string, at time.Time) error
	DeleteWebSession(ctx context.Context, userID, id string) error
	DeleteUserWebSessions(ctx context.Context, userID, exceptID string) (int, error)
	ListWebSessions(ctx context.Context, userID string) ([]*veil.WebSession, error)
}

// Session timeouts.
const (
	DefaultIdleTimeout     = 2 * time.Hour
	DefaultAbsoluteTimeout = 24 * time.Hour
	// MFAPendingTimeout bounds the time between the password and the
	// second-factor step.
	MFAPendingTimeout = 5 * time.Minute
	// touchEvery limits last-seen writes to one per session per minute.
	touchEvery = time.Minute
)

// Sessions starts, resolves and ends browser sessions.
type Sessions struct {
	Store    SessionStore
	Idle     time.Duration    // 0: DefaultIdleTimeout
	Absolute time.Duration    // 0: DefaultAbsoluteTimeout
	Now      func() time.Time // nil: time.Now
}

func (m *Sessions) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Sessions) idle() time.Duration {
	if m.Idle > 0 {
		return m.Idle
	}
	return DefaultIdleTimeout
}

func (m *Sessions) absolute() time.Duration {
	if m.Absolute > 0 {
		return m.Absolute
	}
	return DefaultAbsoluteTimeout
}

// Start creates a session for userID and returns its token (the cookie
// value, shown to the browser only) and the stored session. Every log-in
// gets a new token, so a token planted before log-in is worthless
// (session fixation).
func (m *Sessions) Start(ctx context.Context, userID, ip, userAgent string, mfaPending bool) (string, *veil.WebSession, error) {
	return m.start(ctx, userID, "", ip, userAgent, mfaPending)
}

// StartForOrg starts a session valid only for orgID (a single sign-on
// log-in through that organisation's identity provider).
func (m *Sessions) StartForOrg(ctx context.Context, userID, orgID, ip, userAgent string) (string, *veil.WebSession, error) {
	return m.start(ctx, userID, orgID, ip, userAgent, false)
}

func (m *Sessions) start(ctx context.Context, userID, orgID, ip, userAgent string, mfaPending bool) (string, *veil.WebSession, error) {
	token, hash := NewSessionToken()
	life := m.absolute()
	if mfaPending {
		life = MFAPendingTimeout
	}
	if len(userAgent) > 200 {
		userAgent = userAgent[:200]
	}
	s := &veil.WebSession{UserID: userID, TokenHash: hash, ExpiresAt: m.now().Add(life), MFAPending: mfaPending, OrgID: orgID, IP: ip, UserAgent: userAgent}
	if err := m.Store.CreateWebSession(ctx, s); err != nil {
		return "", nil, err
	}
	return token, s, nil
}

var errNoSession = veil.Errorf(veil.EUNAUTHORIZED, "Not logged in, or the session has expired; log in again.")

// Resolve returns the live session of token, refreshing its idle timer.
// A malformed, unknown, idle or expired token is EUNAUTHORIZED (an
// expired session is deleted).
func (m *Sessions) Resolve(ctx context.Context, token string) (*veil.WebSession, error) {
	if ParseSessionToken(token) != nil {
		return nil, errNoSession
	}
	s, err := m.Store.FindWebSessionByHash(ctx, HashSecret(token))
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		return nil, errNoSession
	} else if err != nil {
		return nil, err
	}
	now := m.now()
	if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= m.idle() {
		_ = m.Store.DeleteWebSession(ctx, s.UserID, s.ID)
		return nil, errNoSession
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		if err := m.Store.TouchWebSession(ctx, s.ID, now); err != nil {
			return nil, err
		}
		s.LastSeenAt = now
	}
	return s, nil
}

// End deletes one session (log-out).
func (m *Sessions) End(ctx context.Context, s *veil.WebSession) error {
	err := m.Store.DeleteWebSession(ctx, s.UserID, s.ID)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		return nil
	}
	return err
}

// EndAll deletes every session of userID but exceptID ("" for all):
// "log out everywhere", and what a password change does.
func (m *Sessions) EndAll(ctx context.Context, userID, exceptID string) (int, error) {
	return m.Store.DeleteUserWebSessions(ctx, userID, exceptID)
}

// Revoke deletes the session id of userID (ENOTFOUND for anyone else's).
func (m *Sessions) Revoke(ctx context.Context, userID, id string) error {
	return m.Store.DeleteWebSession(ctx, userID, id)
}

// SessionCleaner is the storage Cleanup needs.
type SessionCleaner interface {
	DeleteExpiredWebSessions(ctx context.Context, before, idleBefore time.Time) (int, error)
	DeleteStaleLoginThrottles(ctx context.Context, before time.Time) (int, error)
}

// Cleanup deletes expired and idle sessions and old throttling counters.
// Run it periodically (the server does, hourly); it is safe on several
// nodes at once.
func (m *Sessions) Cleanup(ctx context.Context, st SessionCleaner) (sessions, throttles int, err error) {
	now := m.now()
	if sessions, err = st.DeleteExpiredWebSessions(ctx, now, now.Add(-m.idle())); err != nil {
		return 0, 0, err
	}
	throttles, err = st.DeleteStaleLoginThrottles(ctx, now.Add(-ThrottleWindow))
	return sessions, throttles, err
}

// List returns userID's sessions.
func (m *Sessions) List(ctx context.Context, userID string) ([]*veil.WebSession, error) {
	return m.Store.ListWebSessions(ctx, userID)
}
