package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/veil-privacy/veil"
)

// LoginStore is the storage log-in needs.
type LoginStore interface {
	FindUserByEmail(ctx context.Context, email string) (*veil.User, error)
	UpdateUserPassword(ctx context.Context, userID, hash string) error
	AddLoginFailure(ctx context.Context, key string, window time.Duration, lock func(failures int) time.Duration) (*veil.LoginThrottle, error)
	FindLoginThrottle(ctx context.Context, key string) (*veil.LoginThrottle, error)
	ClearLoginThrottle(ctx context.Context, key string) error
}

// Login throttling. Three counters are kept per failed attempt, each in a
// sliding window of ThrottleWindow:
//
//   - account+IP: after 5 failures the pair is locked for 1 minute, doubling
//     with each further failure up to 15 minutes. This stops guessing from
//     one place without affecting the real user elsewhere.
//   - account: after 20 failures from anywhere the account is locked for 15
//     minutes (distributed guessing).
//   - IP: after 50 failures for any accounts the IP is locked for 15
//     minutes (password spraying).
//
// Every lock expires on its own after at most MaxLock, so an attacker can
// slow a victim down but never lock them out for good; a successful log-in
// clears the account's counters, and `veil user unlock` clears them too.
const (
	ThrottleWindow = 15 * time.Minute
	MaxLock        = 15 * time.Minute
)

func lockPairFor(n int) time.Duration {
	if n < 5 {
		return 0
	}
	return min(time.Minute<<min(n-5, 4), MaxLock)
}

func lockAccountFor(n int) time.Duration {
	if n < 20 {
		return 0
	}
	return MaxLock
}

func lockIPFor(n int) time.Duration {
	if n < 50 {
		return 0
	}
	return MaxLock
}

// ThrottleKeys returns the throttling keys of an attempt.
func ThrottleKeys(email, ip string) (pair, account, ipKey string) {
	e := strings.ToLower(strings.TrimSpace(email))
	return "pair:" + e + "|" + ip, "acct:" + e, "ip:" + ip
}

// ThrottledError is returned while an attempt's account, IP or pair is
// locked. It unwraps to a veil ERATELIMITED error.
type ThrottledError struct {
	RetryAfter time.Duration
	Scope      string // "account", "ip" or "pair"
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("log-in locked (%s) for %s", e.Scope, e.RetryAfter.Round(time.Second))
}

func (e *ThrottledError) Unwrap() error {
	mins := int((e.RetryAfter + time.Minute - 1) / time.Minute)
	return veil.Errorf(veil.ERATELIMITED, "Too many failed log-ins. Try again in %d minute(s).", mins)
}

// ErrBadCredentials is the one answer to an unknown e-mail or a wrong
// password, so the log-in form does not reveal who has an account.
var ErrBadCredentials = veil.Errorf(veil.EUNAUTHORIZED, "Wrong e-mail or password.")

// FailedLogin is the error of a wrong password for an existing account: it
// is ErrBadCredentials (errors.Is) and names the account for the audit log.
type FailedLogin struct{ UserID string }

func (e *FailedLogin) Error() string { return "wrong password for user " + e.UserID }
func (e *FailedLogin) Unwrap() error { return ErrBadCredentials }

// Login checks e-mail and password logins.
type Login struct {
	Store  LoginStore
	Params Params           // zero: DefaultParams
	Now    func() time.Time // nil: time.Now

	dummyOnce sync.Once
	dummy     string
}

func (l *Login) params() Params {
	if l.Params == (Params{}) {
		return DefaultParams
	}
	return l.Params
}

// Authenticate returns the user whose e-mail and password these are. ip is
// the client address used for throttling. Failures are ErrBadCredentials,
// or a *ThrottledError while locked (checked before the password, so a
// locked attacker learns nothing). A hash with weaker parameters than
// Params is upgraded on success.
func (l *Login) Authenticate(ctx context.Context, email, password, ip string) (*veil.User, error) {
	pair, acct, ipKey := ThrottleKeys(email, ip)
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	for _, k := range []struct{ key, scope string }{{pair, "pair"}, {acct, "account"}, {ipKey, "ip"}} {
		th, err := l.Store.FindLoginThrottle(ctx, k.key)
		if err != nil {
			return nil, err
		}
		if wait := th.LockedUntil.Sub(now()); wait > 0 {
			return nil, &ThrottledError{RetryAfter: wait, Scope: k.scope}
		}
	}
	if len(password) > MaxPasswordLen || len(email) > 320 {
		return nil, l.fail(ctx, pair, acct, ipKey)
	}
	u, err := l.Store.FindUserByEmail(ctx, email)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		// Spend the same time as a real check so response times do not
		// tell which e-mails have accounts.
		l.dummyOnce.Do(func() { l.dummy, _ = HashPassword(rand32(), l.params()) })
		VerifyPassword(password, l.dummy, l.params())
		return nil, l.fail(ctx, pair, acct, ipKey)
	} else if err != nil {
		return nil, err
	}
	if u.PasswordHash == "" {
		// An account without a password (single sign-on only): same
		// answer and the same time as a wrong password.
		l.dummyOnce.Do(func() { l.dummy, _ = HashPassword(rand32(), l.params()) })
		VerifyPassword(password, l.dummy, l.params())
	}
	rehash, err := VerifyPassword(password, u.PasswordHash, l.params())
	if errors.Is(err, ErrMismatch) || (err != nil && u.PasswordHash == "") {
		if err := l.fail(ctx, pair, acct, ipKey); err != ErrBadCredentials {
			return nil, err
		}
		return nil, &FailedLogin{UserID: u.ID}
	} else if err != nil {
		return nil, fmt.Errorf("verify password of %s: %w", u.ID, err)
	}
	for _, k := range []string{pair, acct} {
		if err := l.Store.ClearLoginThrottle(ctx, k); err != nil {
			return nil, err
		}
	}
	if rehash {
		if h, err := HashPassword(password, l.params()); err == nil {
			if err := l.Store.UpdateUserPassword(ctx, u.ID, h); err == nil {
				u.PasswordHash = h
			}
		}
	}
	return u, nil
}

func (l *Login) fail(ctx context.Context, pair, acct, ipKey string) error {
	for _, k := range []struct {
		key  string
		lock func(int) time.Duration
	}{{pair, lockPairFor}, {acct, lockAccountFor}, {ipKey, lockIPFor}} {
		if _, err := l.Store.AddLoginFailure(ctx, k.key, ThrottleWindow, k.lock); err != nil {
			return err
		}
	}
	return ErrBadCredentials
}

// Unlock clears the account's log-in throttling (all IPs' pair counters
// expire on their own).
func (l *Login) Unlock(ctx context.Context, email string) error {
	_, acct, _ := ThrottleKeys(email, "")
	return l.Store.ClearLoginThrottle(ctx, acct)
}

// rand32 returns a random string for the dummy hash.
func rand32() string { return random32() }
