package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/veil-privacy/veil"
)

func TestLogin_CookieFlags(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[secure]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, secure)
			b := e.browser()
			resp, _ := b.get("/login")
			cname := "veil_session"
			if secure {
				cname = "__Host-veil_session"
			}
			pre := cookie(resp, map[bool]string{false: "veil_csrf", true: "__Host-veil_csrf"}[secure])
			if pre == nil || !pre.HttpOnly || pre.Secure != secure || pre.SameSite != http.SameSiteLaxMode {
				t.Fatalf("pre-session cookie = %+v", pre)
			}
			resp, body := b.post("/login", url.Values{"email": {"owner@example.com"}, "password": {password}})
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
				t.Fatalf("login: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
			c := cookie(resp, cname)
			if c == nil || !c.HttpOnly || c.Secure != secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
				t.Fatalf("session cookie = %+v", c)
			}
			if strings.Contains(resp.Header.Get("Cache-Control"), "no-store") == false {
				t.Fatal("no Cache-Control: no-store")
			}
			// The token is stored only hashed.
			if _, err := e.db.FindWebSessionByHash(context.Background(), []byte(c.Value)); veil.ErrorCode(err) != veil.ENOTFOUND {
				t.Fatal("session token stored in clear")
			}
		})
	}
}

func TestLogin_Failures(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	b.get("/login")
	for _, tt := range []struct {
		name, email, pw string
		want            int
	}{
		{"WrongPassword", "owner@example.com", "nope nope nope", 401},
		{"UnknownUser", "ghost@example.com", password, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := b.post("/login", url.Values{"email": {tt.email}, "password": {tt.pw}})
			if resp.StatusCode != tt.want || !strings.Contains(body, "Wrong e-mail or password") || cookie(resp, "veil_session") != nil {
				t.Fatalf("%d\n%s", resp.StatusCode, body)
			}
		})
	}
	for range 5 {
		b.post("/login", url.Values{"email": {"owner@example.com"}, "password": {"nope nope nope"}})
	}
	resp, _ := b.post("/login", url.Values{"email": {"owner@example.com"}, "password": {password}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("locked login: %d", resp.StatusCode)
	}
	// The failures are in the audit log, without the attempted password or e-mail.
	entries, _ := e.db.ListAudit(context.Background(), veil.AuditFilter{Limit: 100})
	var fail, locked int
	for _, a := range entries {
		switch a.Action {
		case "login.failure":
			fail++
		case "login.locked":
			locked++
		}
		for _, v := range a.Details {
			if strings.Contains(v, "nope") || strings.Contains(v, "ghost") {
				t.Fatalf("audit entry leaks input: %+v", a)
			}
		}
	}
	// 2 + 4 failures; the 6th attempt and the final one hit the lock.
	if fail != 6 || locked != 2 {
		t.Fatalf("audit: %d failures, %d locked", fail, locked)
	}
}

// TestSessionFixation: a session token planted in the browser before
// log-in is never adopted; each log-in issues a new token and ends the
// browser's previous session.
func TestSessionFixation(t *testing.T) {
	e := newEnv(t, false)
	u, _ := url.Parse(e.base)
	planted := "vs1_" + strings.Repeat("a", 52) // well-formed, unknown to the server
	victim := e.browser()
	victim.c.Jar.SetCookies(u, []*http.Cookie{{Name: "veil_session", Value: planted, Path: "/"}})
	victim.get("/login")
	resp, _ := victim.post("/login", url.Values{"email": {"owner@example.com"}, "password": {password}})
	c := cookie(resp, "veil_session")
	if resp.StatusCode != 303 || c == nil || c.Value == planted {
		t.Fatalf("log-in kept the planted session token (%d)", resp.StatusCode)
	}
	// A logged-in browser that logs in again (as anyone) gets a new token,
	// and its old session ends.
	b := e.login("member")
	var old string
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "veil_session" {
			old = c.Value
		}
	}
	resp, _ = b.post("/login", url.Values{"email": {"viewer@example.com"}, "password": {password}})
	if c := cookie(resp, "veil_session"); resp.StatusCode != 303 || c == nil || c.Value == old {
		t.Fatalf("re-login kept the token (%d)", resp.StatusCode)
	}
	stale := e.browser()
	stale.c.Jar.SetCookies(u, []*http.Cookie{{Name: "veil_session", Value: old, Path: "/"}})
	if resp, _ := stale.get("/account"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("old session still valid after re-login: %d", resp.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, false)
	b := e.login("owner")
	other := e.login("admin")
	form := url.Values{"retention_days": {"7"}}
	path := "/orgs/" + e.orgA.ID + "/settings"
	tests := []struct {
		name  string
		token string
		hdr   []string
		want  int
	}{
		{"Missing", "", nil, 403},
		{"Wrong", "abc", nil, 403},
		{"OtherSessionsToken", other.csrf, nil, 403},
		{"CrossSite", b.csrf, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"ForeignOrigin", b.csrf, []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}, 403},
		{"HeaderToken", "", []string{"X-CSRF-Token", b.csrf}, 303},
		{"OK", b.csrf, nil, 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("csrf_token", tt.token)
			resp, body := b.post(path, f, tt.hdr...)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tt.want, body)
			}
		})
	}
	// Log-in itself needs the pre-session token too (login CSRF).
	nb := e.browser()
	nb.get("/login")
	if resp, _ := nb.post("/login", url.Values{"email": {"owner@example.com"}, "password": {password}, "csrf_token": {""}}); resp.StatusCode != 403 {
		t.Fatalf("login without CSRF token: %d", resp.StatusCode)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, false)
	b := e.login("owner")
	b2 := e.login("owner")
	if resp, _ := b.post("/logout", nil); resp.StatusCode != 303 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/account"); resp.StatusCode != 303 {
		t.Fatal("session alive after logout")
	}
	if resp, _ := b2.get("/account"); resp.StatusCode != 200 {
		t.Fatal("other session ended by logout")
	}
	b3 := e.login("owner")
	if resp, _ := b3.post("/logout/everywhere", nil); resp.StatusCode != 303 {
		t.Fatalf("logout everywhere: %d", resp.StatusCode)
	}
	if resp, _ := b2.get("/account"); resp.StatusCode != 303 {
		t.Fatal("session alive after logout everywhere")
	}
}

func TestAccount_PasswordAndSessions(t *testing.T) {
	e := newEnv(t, false)
	b := e.login("member")
	other := e.login("member")
	resp, body := b.post("/account/password", url.Values{"current": {password}, "new": {"member@example.com!"}, "confirm": {"member@example.com!"}})
	if resp.StatusCode != 400 || !strings.Contains(body, "e-mail") {
		t.Fatalf("weak password accepted: %d", resp.StatusCode)
	}
	resp, _ = b.post("/account/password", url.Values{"current": {"wrong"}, "new": {"a much better passphrase"}, "confirm": {"a much better passphrase"}})
	if resp.StatusCode != 400 {
		t.Fatalf("wrong current password accepted: %d", resp.StatusCode)
	}
	resp, body = b.post("/account/password", url.Values{"current": {password}, "new": {"a much better passphrase"}, "confirm": {"a much better passphrase"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "Password changed") {
		t.Fatalf("change password: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := other.get("/account"); resp.StatusCode != 303 {
		t.Fatal("other session survived a password change")
	}
	// Sessions of another user cannot be revoked (404), own ones can.
	victim := e.login("owner")
	vs, _ := e.db.ListWebSessions(context.Background(), e.users["owner"].ID)
	if resp, _ := b.post("/account/sessions/"+vs[0].ID+"/revoke", nil); resp.StatusCode != 404 {
		t.Fatalf("revoke someone else's session: %d", resp.StatusCode)
	}
	if resp, _ := victim.get("/account"); resp.StatusCode != 200 {
		t.Fatal("victim's session ended")
	}
	_, body = b.get("/account")
	if !strings.Contains(body, "This session") {
		t.Fatal("session list missing")
	}
}

func TestMFA_LoginFlow(t *testing.T) {
	e := newEnv(t, false)
	b := e.login("admin")
	secret := b.enrolMFA()
	b.post("/logout", nil)

	nb := e.browser()
	nb.get("/login")
	resp, _ := nb.post("/login", url.Values{"email": {"admin@example.com"}, "password": {password}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login/mfa" {
		t.Fatalf("login with MFA: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	pending := cookie(resp, "veil_session").Value
	// A pending session reaches nothing else.
	if resp, _ := nb.get("/account"); resp.StatusCode != 303 {
		t.Fatalf("pending session reached /account: %d", resp.StatusCode)
	}
	nb.get("/login/mfa")
	if resp, _ := nb.post("/login/mfa", url.Values{"code": {"000000"}}); resp.StatusCode != 401 {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	e.clk.Advance(31 * time.Second)
	code, _ := totp.GenerateCode(secret, e.clk.Now())
	resp, _ = nb.post("/login/mfa", url.Values{"code": {code}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/account" {
		t.Fatalf("MFA step: %d", resp.StatusCode)
	}
	if c := cookie(resp, "veil_session"); c == nil || c.Value == pending {
		t.Fatal("MFA step did not issue a new session token")
	}
	if resp, _ := nb.get("/account"); resp.StatusCode != 200 {
		t.Fatalf("after MFA: %d", resp.StatusCode)
	}
	// The same code cannot be used again for another log-in.
	nb2 := e.browser()
	nb2.get("/login")
	nb2.post("/login", url.Values{"email": {"admin@example.com"}, "password": {password}})
	nb2.get("/login/mfa")
	if resp, _ := nb2.post("/login/mfa", url.Values{"code": {code}}); resp.StatusCode != 401 {
		t.Fatalf("replayed code: %d", resp.StatusCode)
	}
}

func TestOrg_RequireMFA(t *testing.T) {
	e := newEnv(t, false)
	owner := e.login("owner")
	owner.get("/orgs/" + e.orgA.ID)
	if resp, _ := owner.post("/orgs/"+e.orgA.ID+"/settings", url.Values{"require_mfa": {"on"}, "retention_days": {"30"}}); resp.StatusCode != 303 {
		t.Fatalf("settings: %d", resp.StatusCode)
	}
	viewer := e.login("viewer")
	if resp, body := viewer.get("/orgs/" + e.orgA.ID); resp.StatusCode != 403 || !strings.Contains(body, "requires two-factor") {
		t.Fatalf("viewer without MFA: %d", resp.StatusCode)
	}
	viewer.enrolMFA()
	if resp, _ := viewer.get("/orgs/" + e.orgA.ID); resp.StatusCode != 200 {
		t.Fatalf("viewer with MFA: %d", resp.StatusCode)
	}
	entries, _ := e.db.ListAudit(context.Background(), veil.AuditFilter{OrgID: e.orgA.ID})
	if len(entries) != 1 || entries[0].Action != "settings.change" || entries[0].ActorID != e.users["owner"].ID || entries[0].IP == "" {
		t.Fatalf("audit = %+v", entries)
	}
}

func TestStaticAndCSP(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser()
	resp, body := b.get("/static/veil.css")
	if resp.StatusCode != 200 || !strings.Contains(body, "body") {
		t.Fatalf("css: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/static/"); resp.StatusCode != 404 {
		t.Fatalf("static listing: %d", resp.StatusCode)
	}
	// The icon, by the page's link and at the path browsers try on their own.
	for _, p := range []string{"/static/favicon.svg", "/favicon.ico"} {
		resp, body := b.get(p)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(body, "<svg") {
			t.Errorf("%s: %d %s %.20q", p, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	_, body = b.get("/login")
	if !strings.Contains(body, `<link rel="icon" href="/static/favicon.svg"`) {
		t.Error("log-in page does not link the icon")
	}
	for _, bad := range []string{"<script", "style=", "onclick", "javascript:"} {
		if strings.Contains(body, bad) {
			t.Fatalf("login page has %q (CSP forbids inline code)", bad)
		}
	}
}
