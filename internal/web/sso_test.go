package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/auth"
)

// TestSSO runs single sign-on end to end through the dashboard against an
// in-process OpenID provider.
func TestSSO(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, false)
	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Shutdown() })
	sealed, err := auth.SealSSOSecret(e.key, e.orgA.ID, idp.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.PutOrgSSO(ctx, &veil.OrgSSO{OrgID: e.orgA.ID, Issuer: idp.Issuer(), ClientID: idp.ClientID, SealedSecret: sealed,
		AllowedDomains: []string{"example.com"}, DefaultRole: veil.RoleViewer, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	// ownerB is also a viewer of A.
	if err := e.db.CreateMembership(ctx, &veil.Membership{OrgID: e.orgA.ID, UserID: e.users["ownerB"].ID, Role: veil.RoleViewer}); err != nil {
		t.Fatal(err)
	}

	// login goes through the provider and returns the callback response.
	login := func(b *browser, user *mockoidc.MockUser, tamper func(q url.Values)) *http.Response {
		t.Helper()
		if user != nil {
			idp.QueueUser(user)
		}
		resp, _ := b.get("/sso/" + e.orgA.ID)
		if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), idp.Issuer()) {
			t.Fatalf("sso start: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, err := b.c.Get(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cb, _ := url.Parse(resp.Header.Get("Location"))
		q := cb.Query()
		if tamper != nil {
			tamper(q)
		}
		cb.RawQuery = q.Encode()
		resp, _ = b.get(cb.RequestURI())
		return resp
	}
	jane := &mockoidc.MockUser{Subject: "jane", Email: "jane@example.com", EmailVerified: true}

	t.Run("FirstLoginCreatesMember", func(t *testing.T) {
		b := e.browser()
		resp := login(b, jane, nil)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/orgs/"+e.orgA.ID {
			t.Fatalf("callback: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if r, _ := b.get("/orgs/" + e.orgA.ID); r.StatusCode != 200 {
			t.Fatalf("org page after SSO: %d", r.StatusCode)
		}
		u, err := e.db.FindUserByEmail(ctx, "jane@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if m, err := e.db.FindMembership(ctx, e.orgA.ID, u.ID); err != nil || m.Role != veil.RoleViewer {
			t.Fatalf("JIT membership = %+v, %v", m, err)
		}
		// The SSO account has no password.
		pb := e.browser()
		pb.get("/login")
		if r, _ := pb.post("/login", url.Values{"email": {"jane@example.com"}, "password": {""}}); r.StatusCode != 401 {
			t.Fatalf("password log-in of an SSO account: %d", r.StatusCode)
		}
		// Second log-in reuses the account.
		if r := login(e.browser(), jane, nil); r.StatusCode != 303 {
			t.Fatalf("second SSO log-in: %d", r.StatusCode)
		}
	})
	t.Run("ReturnsToSharedLink", func(t *testing.T) {
		b := e.browser()
		link := "/orgs/" + e.orgA.ID + "/projects?x=1"
		if r, _ := b.get(link); r.StatusCode != 303 || r.Header.Get("Location") != "/login" {
			t.Fatalf("logged out: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		resp := login(b, jane, nil)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != link {
			t.Fatalf("callback: %d %s, want %s", resp.StatusCode, resp.Header.Get("Location"), link)
		}
		if r, _ := b.get(link); r.StatusCode != 200 {
			t.Fatalf("the link after SSO: %d", r.StatusCode)
		}
	})
	t.Run("SessionBoundToOrg", func(t *testing.T) {
		b := e.browser()
		if r := login(b, &mockoidc.MockUser{Subject: "b", Email: "ownerB@example.com", EmailVerified: true}, nil); r.StatusCode != 303 {
			t.Fatalf("callback: %d", r.StatusCode)
		}
		if r, _ := b.get("/orgs/" + e.orgB.ID); r.StatusCode != 404 {
			t.Fatalf("A's SSO session reached org B: %d", r.StatusCode)
		}
	})
	for _, tt := range []struct {
		name   string
		user   *mockoidc.MockUser
		tamper func(q url.Values)
	}{
		{"ExistingAccountNotMember", &mockoidc.MockUser{Subject: "n", Email: "nobody@example.com", EmailVerified: true}, nil},
		{"DomainNotAllowed", &mockoidc.MockUser{Subject: "x", Email: "x@evil.example", EmailVerified: true}, nil},
		{"UnverifiedEmail", &mockoidc.MockUser{Subject: "y", Email: "y@example.com"}, nil},
		{"WrongState", jane, func(q url.Values) { q.Set("state", "forged") }},
		{"WrongCode", jane, func(q url.Values) { q.Set("code", "forged") }},
		{"ProviderError", jane, func(q url.Values) { q.Set("error", "access_denied") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser()
			resp := login(b, tt.user, tt.tamper)
			if resp.StatusCode != 403 || cookie(resp, "veil_session") != nil {
				t.Fatalf("callback: %d", resp.StatusCode)
			}
		})
	}
	t.Run("NoFlowCookie", func(t *testing.T) {
		if r, _ := e.browser().get("/sso/callback?state=a&code=b"); r.StatusCode != 403 {
			t.Fatalf("callback without flow: %d", r.StatusCode)
		}
	})
	t.Run("NotSetUp", func(t *testing.T) {
		if r, _ := e.browser().get("/sso/" + e.orgB.ID); r.StatusCode != 404 {
			t.Fatalf("org without SSO: %d", r.StatusCode)
		}
	})
	es, _ := e.db.ListAudit(ctx, veil.AuditFilter{OrgID: e.orgA.ID, Limit: 200})
	var ok, failed int
	for _, en := range es {
		if en.Details["method"] == "sso" && en.Action == "login.success" {
			ok++
		}
		if en.Details["method"] == "sso" && en.Action == "login.failure" {
			failed++
		}
	}
	if ok != 4 || failed != 6 {
		t.Fatalf("audit: %d SSO log-ins, %d failures", ok, failed)
	}
}
