package auth_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/keyring"
)

// mustIdP runs a mock OpenID provider on 127.0.0.1 (discovery, JWKS,
// authorize, token with PKCE) for the test.
func mustIdP(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m
}

const redirect = "http://veil.test/sso/callback"

// authorize follows the browser's visit to the provider and returns the
// callback's state and code.
func authorize(t *testing.T, authURL string) (state, code string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirect) {
		t.Fatalf("provider answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("state"), loc.Query().Get("code")
}

func TestSSO_Flow(t *testing.T) {
	ctx := context.Background()
	m := mustIdP(t)
	cfg := &veil.OrgSSO{OrgID: "org_a", Issuer: m.Issuer(), ClientID: m.ClientID, AllowedDomains: []string{"Example.com"}, DefaultRole: veil.RoleViewer, Enabled: true}
	s := &auth.SSO{}
	begin := func() (*auth.SSOFlow, string, string) {
		authURL, f, err := s.Begin(ctx, cfg, m.ClientSecret, redirect)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := url.Parse(authURL)
		if q.Query().Get("code_challenge_method") != "S256" || q.Query().Get("nonce") != f.Nonce || q.Query().Get("state") != f.State {
			t.Fatalf("auth URL lacks PKCE, nonce or state: %s", authURL)
		}
		state, code := authorize(t, authURL)
		return f, state, code
	}

	f, state, code := begin()
	id, err := s.Finish(ctx, cfg, m.ClientSecret, redirect, f, state, code)
	if err != nil || id.Email != "jane.doe@example.com" || id.Subject == "" {
		t.Fatalf("Finish = %+v, %v", id, err)
	}

	tests := []struct {
		name   string
		mutate func(f *auth.SSOFlow, state, code *string, c *veil.OrgSSO)
	}{
		{"WrongState", func(f *auth.SSOFlow, state, code *string, c *veil.OrgSSO) { *state = "forged" }},
		{"WrongNonce", func(f *auth.SSOFlow, state, code *string, c *veil.OrgSSO) { f.Nonce = "other" }},
		{"WrongVerifier", func(f *auth.SSOFlow, state, code *string, c *veil.OrgSSO) { f.Verifier = strings.Repeat("a", 43) }},
		{"Expired", func(f *auth.SSOFlow, state, code *string, c *veil.OrgSSO) { f.Expires = time.Now().Add(-time.Second) }},
		{"OtherOrgsFlow", func(f *auth.SSOFlow, state, code *string, c *veil.OrgSSO) { f.OrgID = "org_b" }},
		{"CodeReplay", nil},
		{"DomainNotAllowed", func(f *auth.SSOFlow, state, code *string, c *veil.OrgSSO) { c.AllowedDomains = []string{"example.org"} }},
		{"Disabled", func(f *auth.SSOFlow, state, code *string, c *veil.OrgSSO) { c.Enabled = false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *cfg
			f, state, code := begin()
			if tt.mutate == nil { // use the code twice
				if _, err := s.Finish(ctx, &c, m.ClientSecret, redirect, f, state, code); err != nil {
					t.Fatal(err)
				}
			} else {
				tt.mutate(f, &state, &code, &c)
			}
			if id, err := s.Finish(ctx, &c, m.ClientSecret, redirect, f, state, code); err == nil || veil.ErrorCode(err) != veil.EFORBIDDEN && veil.ErrorCode(err) != veil.ENOTFOUND {
				t.Fatalf("accepted: %+v, %v", id, err)
			}
		})
	}

	t.Run("UnverifiedEmail", func(t *testing.T) {
		m.QueueUser(&mockoidc.MockUser{Subject: "u2", Email: "joe@example.com", EmailVerified: false})
		f, state, code := begin()
		if _, err := s.Finish(ctx, cfg, m.ClientSecret, redirect, f, state, code); err == nil || !strings.Contains(veil.ErrorMessage(err), "not verified") {
			t.Fatalf("unverified e-mail accepted: %v", err)
		}
	})
}

// TestSSO_IDTokenChecks signs ID tokens with the provider's own key (and
// another provider's) and checks each claim Veil relies on.
func TestSSO_IDTokenChecks(t *testing.T) {
	ctx := context.Background()
	m := mustIdP(t)
	other := mustIdP(t)
	cfg := &veil.OrgSSO{OrgID: "org_a", Issuer: m.Issuer(), ClientID: m.ClientID, AllowedDomains: []string{"example.com"}, Enabled: true}
	s := &auth.SSO{}
	now := time.Now()
	// mockoidc servers share a default key pair: sign with a fresh one.
	foreign, err := mockoidc.RandomKeypair(2048)
	if err != nil {
		t.Fatal(err)
	}
	claims := func(mut func(c *mockoidc.IDTokenClaims)) *claimsWithEmail {
		c := &mockoidc.IDTokenClaims{Nonce: "n1", RegisteredClaims: &jwt.RegisteredClaims{
			Issuer: m.Issuer(), Subject: "s1", Audience: jwt.ClaimStrings{m.ClientID},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)),
		}}
		if mut != nil {
			mut(c)
		}
		return &claimsWithEmail{IDTokenClaims: c, Email: "jane@example.com", EmailVerified: true}
	}
	tests := []struct {
		name  string
		kp    *mockoidc.Keypair
		c     *claimsWithEmail
		nonce string
		ok    bool
	}{
		{"OK", m.Keypair, claims(nil), "n1", true},
		{"WrongNonce", m.Keypair, claims(nil), "n2", false},
		{"NoNonce", m.Keypair, claims(func(c *mockoidc.IDTokenClaims) { c.Nonce = "" }), "", false},
		{"WrongIssuer", m.Keypair, claims(func(c *mockoidc.IDTokenClaims) { c.Issuer = other.Issuer() }), "n1", false},
		{"WrongAudience", m.Keypair, claims(func(c *mockoidc.IDTokenClaims) { c.Audience = jwt.ClaimStrings{"someone-else"} }), "n1", false},
		{"Expired", m.Keypair, claims(func(c *mockoidc.IDTokenClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) }), "n1", false},
		{"ForeignKey", foreign, claims(nil), "n1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := tt.kp.SignJWT(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			id, err := s.VerifyIDToken(ctx, cfg, raw, tt.nonce)
			if (err == nil) != tt.ok {
				t.Fatalf("VerifyIDToken = %+v, %v; want ok=%v", id, err, tt.ok)
			}
		})
	}
	// An alg=none token is refused.
	none := "eyJhbGciOiJub25lIn0." + strings.TrimRight(jwtPart(`{"iss":"`+m.Issuer()+`","aud":"`+m.ClientID+`","nonce":"n1","exp":9999999999,"email":"jane@example.com","email_verified":true}`), "=") + "."
	if _, err := s.VerifyIDToken(ctx, cfg, none, "n1"); err == nil {
		t.Fatal("alg=none accepted")
	}
}

type claimsWithEmail struct {
	*mockoidc.IDTokenClaims
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
}

func jwtPart(s string) string {
	return strings.NewReplacer("+", "-", "/", "_").Replace(b64(s))
}

func TestSSO_SealedFlowAndSecret(t *testing.T) {
	key := keyring.NewDataKey()
	f := &auth.SSOFlow{OrgID: "org_a", State: "s", Nonce: "n", Verifier: "v", Expires: time.Now().Truncate(time.Second)}
	c, err := auth.SealFlow(key, f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c, "org_a") {
		t.Fatal("flow cookie not sealed")
	}
	got, err := auth.OpenFlow(key, c)
	if err != nil || got.State != "s" || got.Nonce != "n" || !got.Expires.Equal(f.Expires) {
		t.Fatalf("OpenFlow = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "x", c[:len(c)-2] + "AA"} {
		if _, err := auth.OpenFlow(key, bad); err == nil {
			t.Fatalf("OpenFlow(%q) accepted", bad)
		}
	}
	if _, err := auth.OpenFlow(keyring.NewDataKey(), c); err == nil {
		t.Fatal("flow opened with another key")
	}
	sealed, _ := auth.SealSSOSecret(key, "org_a", "shh")
	if s, err := auth.OpenSSOSecret(key, "org_a", sealed); err != nil || s != "shh" {
		t.Fatalf("OpenSSOSecret = %q, %v", s, err)
	}
	if _, err := auth.OpenSSOSecret(key, "org_b", sealed); err == nil {
		t.Fatal("secret opened for another org")
	}
}

func TestDomainAllowed(t *testing.T) {
	for _, tt := range []struct {
		email string
		ok    bool
	}{
		{"a@example.com", true}, {"a@EXAMPLE.com", true}, {"a@sub.example.com", false}, {"a@example.com.evil", false},
		{"example.com", false}, {"a@", false}, {"a@b@example.com", true},
	} {
		if got := auth.DomainAllowed(tt.email, []string{"example.com"}); got != tt.ok {
			t.Errorf("DomainAllowed(%q) = %v", tt.email, got)
		}
	}
}

func b64(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }
