package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// TestLogin_ReturnsToSharedLink: a shared player link opened while logged
// out goes to the log-in page and, after the password (and the MFA step),
// to exactly that link; a planted or stale return address never leads
// off the site.
func TestLogin_ReturnsToSharedLink(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, false)
	ps, err := e.db.ListProjects(ctx, e.orgA.ID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("projects of A: %v %v", ps, err)
	}
	base := "/orgs/" + e.orgA.ID + "/projects/" + ps[0].ID
	link := base + "/sessions/ses_shared?t=1m30s"

	// open requests link logged out and checks it is sent to log in.
	open := func(t *testing.T, b *browser, link string) {
		t.Helper()
		resp, _ := b.get(link)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Fatalf("logged-out %s: %d %s", link, resp.StatusCode, resp.Header.Get("Location"))
		}
		if c := cookie(resp, "veil_return"); c == nil || !c.HttpOnly || c.MaxAge <= 0 || c.MaxAge > 3600 || c.SameSite != http.SameSiteLaxMode {
			t.Fatalf("return cookie = %+v", c)
		}
	}
	logIn := func(t *testing.T, b *browser, email string) *http.Response {
		t.Helper()
		if resp, body := b.get("/login"); resp.StatusCode != 200 {
			t.Fatalf("log-in page: %d\n%s", resp.StatusCode, body)
		}
		resp, body := b.post("/login", url.Values{"email": {email}, "password": {password}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("log in: %d\n%s", resp.StatusCode, body)
		}
		return resp
	}

	t.Run("Password", func(t *testing.T) {
		b := e.browser()
		open(t, b, link)
		resp := logIn(t, b, "viewer@example.com")
		if got := resp.Header.Get("Location"); got != link {
			t.Fatalf("after log-in: %s, want %s", got, link)
		}
		if c := cookie(resp, "veil_return"); c == nil || c.MaxAge >= 0 {
			t.Fatalf("return cookie not cleared: %+v", c)
		}
		// Logged in now: the link is answered (the session does not
		// exist: 404), not sent back to the log-in.
		if resp, _ := b.get(link); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("following the link: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		// Used once: the next log-in goes to the account page.
		b.get("/account")
		if resp, _ := b.post("/logout", nil); resp.Header.Get("Location") != "/login" {
			t.Fatalf("log out: %d", resp.StatusCode)
		}
		if resp := logIn(t, b, "viewer@example.com"); resp.Header.Get("Location") != "/account" {
			t.Fatalf("second log-in: %s", resp.Header.Get("Location"))
		}
	})
	t.Run("ListWithFilters", func(t *testing.T) {
		b := e.browser()
		list := base + "/sessions?path=%2Fcheckout&sort=duration&errors=1"
		open(t, b, list)
		resp := logIn(t, b, "member@example.com")
		if got := resp.Header.Get("Location"); got != list {
			t.Fatalf("after log-in: %s, want %s", got, list)
		}
		if resp, body := b.get(list); resp.StatusCode != 200 {
			t.Fatalf("the list: %d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("AfterMFA", func(t *testing.T) {
		secret := e.login("admin").enrolMFA()
		b := e.browser()
		open(t, b, link)
		if resp := logIn(t, b, "admin@example.com"); resp.Header.Get("Location") != "/login/mfa" {
			t.Fatalf("password step: %s", resp.Header.Get("Location"))
		}
		b.get("/login/mfa")
		e.clk.Advance(31 * time.Second)
		code, _ := totp.GenerateCode(secret, e.clk.Now())
		resp, _ := b.post("/login/mfa", url.Values{"code": {code}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != link {
			t.Fatalf("after MFA: %d %s, want %s", resp.StatusCode, resp.Header.Get("Location"), link)
		}
	})
	t.Run("ScriptRequestsAreNotRemembered", func(t *testing.T) {
		b := e.browser()
		resp, _ := b.get(base + "/sessions/ses_shared/replay.ndjson")
		if c := cookie(resp, "veil_return"); c != nil {
			t.Fatalf("replay stream remembered: %+v", c)
		}
	})
	// A return cookie planted by someone else (a sibling subdomain, an
	// old browser) is checked again when used. (A raw backslash cannot be
	// sent in a cookie; its escaped form is in the list.)
	srv, _ := url.Parse(e.base)
	for _, planted := range []string{"//evil.com", "https://evil.com/x", url.QueryEscape("//evil.com"),
		url.QueryEscape("/\\evil.com"), "%2F%2Fevil.com", "javascript:alert(1)", url.QueryEscape("/a\r\nSet-Cookie: x=y")} {
		t.Run("Planted", func(t *testing.T) {
			b := e.browser()
			b.c.Jar.SetCookies(srv, []*http.Cookie{{Name: "veil_return", Value: planted, Path: "/"}})
			if resp := logIn(t, b, "member@example.com"); resp.Header.Get("Location") != "/account" {
				t.Fatalf("planted %q: went to %s", planted, resp.Header.Get("Location"))
			}
		})
	}
}
