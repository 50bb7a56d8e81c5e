package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/store/storetest"
)

// fastParams keep tests quick; production uses DefaultParams.
var fastParams = auth.Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32}

func mustStore(t *testing.T) (*store.DB, *storetest.Clock) {
	t.Helper()
	return storetest.MustOpen(t, func(t *testing.T) *store.DB {
		db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "veil.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func mustUser(t *testing.T, db *store.DB, email, password string, p auth.Params) *veil.User {
	t.Helper()
	h, err := auth.HashPassword(password, p)
	if err != nil {
		t.Fatal(err)
	}
	u := &veil.User{Email: email, PasswordHash: h}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLogin(t *testing.T) {
	ctx := context.Background()
	db, clk := mustStore(t)
	alice := mustUser(t, db, "alice@example.com", "correct horse battery", fastParams)
	l := &auth.Login{Store: db, Params: fastParams, Now: clk.Now}

	if u, err := l.Authenticate(ctx, "ALICE@example.com", "correct horse battery", "192.0.2.1"); err != nil || u.ID != alice.ID {
		t.Fatalf("good login = %v, %v", u, err)
	}
	for _, tt := range []struct{ name, email, pw string }{
		{"WrongPassword", "alice@example.com", "wrong"},
		{"UnknownUser", "bob@example.com", "correct horse battery"},
		{"Empty", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.Authenticate(ctx, tt.email, tt.pw, "192.0.2.9")
			if !errors.Is(err, auth.ErrBadCredentials) || veil.ErrorCode(err) != veil.EUNAUTHORIZED {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestLogin_Throttle(t *testing.T) {
	ctx := context.Background()
	db, clk := mustStore(t)
	mustUser(t, db, "alice@example.com", "correct horse battery", fastParams)
	l := &auth.Login{Store: db, Params: fastParams, Now: clk.Now}
	const attacker, victim = "203.0.113.7", "192.0.2.1"
	for range 5 {
		if _, err := l.Authenticate(ctx, "alice@example.com", "guess", attacker); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	// The attacker's IP is locked for this account, even with the right password.
	_, err := l.Authenticate(ctx, "alice@example.com", "correct horse battery", attacker)
	var te *auth.ThrottledError
	if !errors.As(err, &te) || te.Scope != "pair" || veil.ErrorCode(err) != veil.ERATELIMITED || te.RetryAfter > time.Minute {
		t.Fatalf("locked attempt = %v", err)
	}
	// The victim, elsewhere, still logs in.
	if _, err := l.Authenticate(ctx, "alice@example.com", "correct horse battery", victim); err != nil {
		t.Fatalf("victim locked out: %v", err)
	}
	// Distributed guessing locks the account, but only for MaxLock.
	for i := range 20 {
		l.Authenticate(ctx, "alice@example.com", "guess", "198.51.100."+string(rune('a'+i)))
	}
	if _, err := l.Authenticate(ctx, "alice@example.com", "correct horse battery", victim); !errors.As(err, &te) || te.Scope != "account" {
		t.Fatalf("account lock = %v", err)
	}
	clk.Advance(auth.MaxLock + time.Second)
	if _, err := l.Authenticate(ctx, "alice@example.com", "correct horse battery", victim); err != nil {
		t.Fatalf("lock did not expire: %v", err)
	}
	// Unlock clears the account counter at once.
	for i := range 20 {
		l.Authenticate(ctx, "alice@example.com", "guess", "198.51.100."+string(rune('a'+i)))
	}
	if err := l.Unlock(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Authenticate(ctx, "alice@example.com", "correct horse battery", victim); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

func TestLogin_Rehash(t *testing.T) {
	ctx := context.Background()
	db, clk := mustStore(t)
	u := mustUser(t, db, "alice@example.com", "correct horse battery", fastParams)
	stronger := fastParams
	stronger.Time = 2
	l := &auth.Login{Store: db, Params: stronger, Now: clk.Now}
	if _, err := l.Authenticate(ctx, "alice@example.com", "correct horse battery", "::1"); err != nil {
		t.Fatal(err)
	}
	got, _ := db.FindUserByID(ctx, u.ID)
	if got.PasswordHash == u.PasswordHash || !strings.Contains(got.PasswordHash, "t=2") {
		t.Fatalf("hash not upgraded: %s", got.PasswordHash)
	}
	if _, err := l.Authenticate(ctx, "alice@example.com", "correct horse battery", "::1"); err != nil {
		t.Fatalf("login after upgrade: %v", err)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	db, clk := mustStore(t)
	u := mustUser(t, db, "alice@example.com", "correct horse battery", fastParams)
	m := &auth.Sessions{Store: db, Idle: time.Hour, Absolute: 3 * time.Hour, Now: clk.Now}

	tok, s, err := m.Start(ctx, u.ID, "::1", "Firefox", false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(s.TokenHash), tok) || len(s.TokenHash) != 32 {
		t.Fatal("token stored in clear")
	}
	tok2, _, _ := m.Start(ctx, u.ID, "::1", "Firefox", false)
	if tok2 == tok {
		t.Fatal("two log-ins got the same token")
	}
	got, err := m.Resolve(ctx, tok)
	if err != nil || got.ID != s.ID {
		t.Fatalf("Resolve = %v, %v", got, err)
	}
	for _, bad := range []string{"", "vs1_", tok + "x", strings.ToUpper(tok), "vs1_" + strings.Repeat("0", 52)} {
		if _, err := m.Resolve(ctx, bad); veil.ErrorCode(err) != veil.EUNAUTHORIZED {
			t.Fatalf("Resolve(%q) = %v", bad, err)
		}
	}
	// Activity keeps a session alive up to the absolute timeout.
	for range 5 {
		clk.Advance(50 * time.Minute)
		if _, err := m.Resolve(ctx, tok); err != nil && clk.Now().Sub(storetest.Epoch) < 3*time.Hour {
			t.Fatalf("active session ended early: %v", err)
		}
	}
	if _, err := m.Resolve(ctx, tok); veil.ErrorCode(err) != veil.EUNAUTHORIZED {
		t.Fatalf("session outlived the absolute timeout: %v", err)
	}
	// tok2 was idle for more than an hour.
	if _, err := m.Resolve(ctx, tok2); veil.ErrorCode(err) != veil.EUNAUTHORIZED {
		t.Fatalf("idle session still valid: %v", err)
	}
	// Log out everywhere.
	a, _, _ := m.Start(ctx, u.ID, "::1", "A", false)
	b, sb, _ := m.Start(ctx, u.ID, "::1", "B", false)
	if n, err := m.EndAll(ctx, u.ID, sb.ID); err != nil || n != 1 {
		t.Fatalf("EndAll = %d, %v", n, err)
	}
	if _, err := m.Resolve(ctx, a); err == nil {
		t.Fatal("other session survived EndAll")
	}
	if _, err := m.Resolve(ctx, b); err != nil {
		t.Fatal("current session ended by EndAll")
	}
	// MFA-pending sessions are short.
	p, _, _ := m.Start(ctx, u.ID, "::1", "P", true)
	clk.Advance(auth.MFAPendingTimeout)
	if _, err := m.Resolve(ctx, p); err == nil {
		t.Fatal("MFA-pending session outlived its timeout")
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	db, clk := mustStore(t)
	org := storetest.MustCreateOrg(t, db, "a")
	m := &auth.Tokens{Store: db, Now: clk.Now}
	exp := clk.Now().Add(time.Hour)
	secret, tok, err := m.Create(ctx, org.ID, "", "ci", veil.RoleMember, &exp)
	if err != nil || !strings.HasPrefix(secret, "veil_pat_") || !strings.HasPrefix(secret[9:], tok.Prefix) {
		t.Fatalf("Create = %q, %+v, %v", secret, tok, err)
	}
	if got, err := m.Authenticate(ctx, secret); err != nil || got.ID != tok.ID || got.Role != veil.RoleMember {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	forged := secret[:len(secret)-1] + map[bool]string{true: "0", false: "1"}[secret[len(secret)-1] != '0']
	for _, bad := range []string{"", "veil_pat_", "Bearer " + secret, forged, secret + "0"} {
		if _, err := m.Authenticate(ctx, bad); veil.ErrorCode(err) != veil.EUNAUTHORIZED {
			t.Fatalf("Authenticate(bad) = %v", err)
		}
	}
	clk.Advance(time.Hour)
	if _, err := m.Authenticate(ctx, secret); veil.ErrorCode(err) != veil.EUNAUTHORIZED {
		t.Fatalf("expired token accepted: %v", err)
	}
	secret2, tok2, _ := m.Create(ctx, org.ID, "", "x", veil.RoleViewer, nil)
	if err := db.RevokeAPIToken(ctx, org.ID, tok2.ID, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(ctx, secret2); veil.ErrorCode(err) != veil.EUNAUTHORIZED {
		t.Fatalf("revoked token accepted: %v", err)
	}
	if _, _, err := m.Create(ctx, org.ID, "", "x", veil.RoleViewer, &exp); veil.ErrorCode(err) != veil.EINVALID {
		t.Fatalf("past expiry accepted: %v", err)
	}
}

func TestCSRF(t *testing.T) {
	tok, _ := auth.NewSessionToken()
	other, _ := auth.NewSessionToken()
	c := auth.CSRFToken(tok)
	if !auth.CheckCSRF(tok, c) || auth.CheckCSRF(other, c) || auth.CheckCSRF(tok, "") || auth.CheckCSRF("", auth.CSRFToken("")) {
		t.Fatal("CheckCSRF wrong")
	}
}

func FuzzParseAPIToken(f *testing.F) {
	good, _, _ := auth.NewAPIToken()
	for _, s := range []string{good, "", "veil_pat_", "veil_pat_" + strings.Repeat("i", 52), "veil_wk_abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prefix, err := auth.ParseAPIToken(s)
		if err != nil {
			if strings.Contains(err.Error(), s) && len(s) > 12 {
				t.Fatal("error echoes the token")
			}
			return
		}
		if len(prefix) != auth.TokenPrefixLen || !strings.HasPrefix(s, "veil_pat_"+prefix) {
			t.Fatalf("prefix %q of %q", prefix, s)
		}
	})
}

func FuzzParseSessionToken(f *testing.F) {
	good, _ := auth.NewSessionToken()
	for _, s := range []string{good, "", "vs1_", good[:20]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if auth.ParseSessionToken(s) == nil && (len(s) != 56 || !strings.HasPrefix(s, "vs1_")) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func FuzzVerifyPassword(f *testing.F) {
	h, _ := auth.HashPassword("correct horse battery", fastParams)
	f.Add("correct horse battery", h)
	f.Add("x", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA")
	f.Add("x", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$aGFzaA")
	f.Fuzz(func(t *testing.T, pw, hash string) {
		// Must never panic or burn unbounded memory, whatever the stored hash says.
		auth.VerifyPassword(pw, hash, fastParams)
	})
}

func TestSessions_Cleanup(t *testing.T) {
	ctx := context.Background()
	db, clk := mustStore(t)
	u := mustUser(t, db, "alice@example.com", "correct horse battery", fastParams)
	m := &auth.Sessions{Store: db, Idle: time.Hour, Now: clk.Now}
	m.Start(ctx, u.ID, "", "", false)
	live, _, _ := m.Start(ctx, u.ID, "", "", false)
	l := &auth.Login{Store: db, Params: fastParams, Now: clk.Now}
	l.Authenticate(ctx, "alice@example.com", "wrong", "::1")
	clk.Advance(50 * time.Minute)
	m.Resolve(ctx, live)
	clk.Advance(20 * time.Minute)
	s, th, err := m.Cleanup(ctx, db)
	if err != nil || s != 1 || th != 3 {
		t.Fatalf("Cleanup = %d sessions, %d throttles, %v", s, th, err)
	}
	if _, err := m.Resolve(ctx, live); err != nil {
		t.Fatalf("live session cleaned up: %v", err)
	}
}
