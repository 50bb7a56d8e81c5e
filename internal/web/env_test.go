package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/settings"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/store/storetest"
	"github.com/veil-privacy/veil/internal/web"
	"github.com/veil-privacy/veil/internal/webhook"
)

var fastParams = auth.Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32}

const password = "correct horse battery"

// env is a dashboard on a real SQLite store with two organisations: A
// (owner, admin, member, viewer) and B (its own owner).
type env struct {
	t      *testing.T
	db     *store.DB
	clk    *storetest.Clock
	h      *web.Handler
	srv    *httptest.Server
	log    *audit.Log
	mfa    *auth.MFA
	orgA   *veil.Org
	orgB   *veil.Org
	users  map[string]*veil.User // "owner", "admin", "member", "viewer", "ownerB", "nobody"
	secure bool
	key    *keyring.DataKey
	base   string // the server's URL with host localhost
}

func newEnv(t *testing.T, secure bool) *env {
	t.Helper()
	db, clk := storetest.MustOpen(t, func(t *testing.T) *store.DB {
		db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "veil.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
	// Sessions compare against the wall clock in the HTTP tests below,
	// while the store's clock stays fixed: keep them the same.
	clk.Advance(time.Since(clk.Now()))
	e := &env{t: t, db: db, clk: clk, secure: secure, users: map[string]*veil.User{}}
	e.log = &audit.Log{Store: db, Now: clk.Now}
	e.mfa = &auth.MFA{Store: db, Key: keyring.NewDataKey(), Now: clk.Now}
	e.key = keyring.NewDataKey()
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.h.ServeHTTP(w, r) }))
	// WebAuthn relying parties are domains, never IP addresses: browse the
	// test server as localhost.
	e.base = strings.Replace(e.srv.URL, "127.0.0.1", "localhost", 1)
	pk, err := auth.NewPasskeys(db, e.key, e.base)
	if err != nil {
		t.Fatal(err)
	}
	e.h = web.New(web.Options{
		Passkeys: pk,
		Store:    db,
		Sessions: &auth.Sessions{Store: db, Now: clk.Now},
		Login:    &auth.Login{Store: db, Params: fastParams, Now: clk.Now},
		MFA:      e.mfa,
		Audit:    e.log,
		SSO:      &auth.SSO{},
		Key:      e.key,
		Secure:   secure,
		Origin:   e.base,
		Webhooks: &webhook.Service{Store: db, Key: e.key},
		Settings: settings.New(db),
	})
	t.Cleanup(e.srv.Close)
	e.orgA = storetest.MustCreateOrg(t, db, "A")
	e.orgB = storetest.MustCreateOrg(t, db, "B")
	storetest.MustCreateProject(t, db, e.orgA.ID, "pa")
	storetest.MustCreateProject(t, db, e.orgB.ID, "pb")
	for name, m := range map[string]struct {
		org  string
		role veil.Role
	}{
		"owner": {e.orgA.ID, veil.RoleOwner}, "admin": {e.orgA.ID, veil.RoleAdmin}, "member": {e.orgA.ID, veil.RoleMember},
		"viewer": {e.orgA.ID, veil.RoleViewer}, "ownerB": {e.orgB.ID, veil.RoleOwner}, "nobody": {},
	} {
		e.users[name] = e.mustUser(name+"@example.com", m.org, m.role)
	}
	return e
}

func (e *env) mustUser(email, orgID string, role veil.Role) *veil.User {
	e.t.Helper()
	h, err := auth.HashPassword(password, fastParams)
	if err != nil {
		e.t.Fatal(err)
	}
	u := &veil.User{Email: email, PasswordHash: h}
	if err := e.db.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	if orgID != "" {
		if err := e.db.CreateMembership(context.Background(), &veil.Membership{OrgID: orgID, UserID: u.ID, Role: role}); err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// get fetches path and remembers the page's CSRF token.
func (b *browser) get(path string) (*http.Response, string) {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.base + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp, string(body)
}

// post submits a form with the remembered CSRF token (unless form sets
// csrf_token itself) from the dashboard's own origin.
func (b *browser) post(path string, form url.Values, hdr ...string) (*http.Response, string) {
	b.e.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	form = f
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.e.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// login logs in as user name (completing MFA when enabled) and returns
// the browser, with a fresh CSRF token for its session.
func (e *env) login(name string) *browser {
	e.t.Helper()
	b := e.browser()
	b.get("/login")
	resp, body := b.post("/login", url.Values{"email": {e.users[name].Email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d\n%s", name, resp.StatusCode, body)
	}
	b.get("/account")
	return b
}

// enrolMFA turns on TOTP for b's user through the pages and returns the
// secret.
func (b *browser) enrolMFA() string {
	b.e.t.Helper()
	_, body := b.get("/account/mfa")
	m := regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`).FindStringSubmatch(body)
	if m == nil {
		b.e.t.Fatalf("no secret on the page:\n%s", body)
	}
	code, _ := totp.GenerateCode(m[1], b.e.clk.Now())
	if resp, body := b.post("/account/mfa", url.Values{"code": {code}}); resp.StatusCode != 200 || !strings.Contains(body, "recovery codes") {
		b.e.t.Fatalf("confirm MFA: %d\n%s", resp.StatusCode, body)
	}
	return m[1]
}

func cookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
