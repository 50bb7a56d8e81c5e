package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/auth/webauthntest"
)

// postJSON posts body as JSON with the CSRF token in X-CSRF-Token, as
// static/webauthn.js does.
func (b *browser) postJSON(path string, body any) (*http.Response, map[string]json.RawMessage) {
	b.e.t.Helper()
	js, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", b.e.base+path, strings.NewReader(string(js)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]json.RawMessage
	json.Unmarshal(raw, &out)
	return resp, out
}

func unquote(m json.RawMessage) string {
	var s string
	json.Unmarshal(m, &s)
	return s
}

func TestPasskeyFlow(t *testing.T) {
	e := newEnv(t, false)
	key := webauthntest.New(e.base)
	b := e.login("member")

	// Register a security key from the account page.
	resp, begin := b.postJSON("/account/webauthn/register/begin", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("register begin: %d", resp.StatusCode)
	}
	cred, err := key.Create(begin["options"])
	if err != nil {
		t.Fatal(err)
	}
	resp, out := b.postJSON("/account/webauthn/register/finish", map[string]any{"state": unquote(begin["state"]), "name": "My key", "credential": json.RawMessage(cred)})
	if resp.StatusCode != 200 || unquote(out["redirect"]) != "/account" {
		t.Fatalf("register finish: %d %s", resp.StatusCode, out["error"])
	}
	if _, body := b.get("/account"); !strings.Contains(body, "My key") || !strings.Contains(body, "/static/webauthn.js") {
		t.Fatal("key not listed on the account page")
	}
	b.post("/logout", nil)

	// Log in: the password is not enough any more. (The browser opened a
	// shared link first: the security key step returns to it.)
	nb := e.browser()
	link := "/orgs/" + e.orgA.ID + "/projects?from=link"
	if r, _ := nb.get(link); r.Header.Get("Location") != "/login" {
		t.Fatalf("logged-out link: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	nb.get("/login")
	resp, _ = nb.post("/login", url.Values{"email": {"member@example.com"}, "password": {password}})
	if resp.Header.Get("Location") != "/login/mfa" {
		t.Fatalf("login with a security key: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := nb.get("/login/mfa")
	if !strings.Contains(page, `id="webauthn-login"`) || strings.Contains(page, `name="code"`) {
		t.Fatal("MFA page should offer the security key only")
	}
	assert := func(k *webauthntest.Key) (*http.Response, map[string]json.RawMessage) {
		_, begin := nb.postJSON("/login/webauthn/begin", nil)
		a, err := k.Get(begin["options"])
		if err != nil {
			t.Fatal(err)
		}
		return nb.postJSON("/login/webauthn/finish", map[string]any{"state": unquote(begin["state"]), "credential": json.RawMessage(a)})
	}
	phish := *key
	phish.Origin = "https://evil.example"
	if resp, out := assert(&phish); resp.StatusCode != 401 || out["error"] == nil {
		t.Fatalf("assertion from a phishing origin: %d", resp.StatusCode)
	}
	resp, out = assert(key)
	if resp.StatusCode != 200 || unquote(out["redirect"]) != link || cookie(resp, "veil_session") == nil {
		t.Fatalf("security key log-in: %d %s", resp.StatusCode, out["error"])
	}
	if r, _ := nb.get("/account"); r.StatusCode != 200 {
		t.Fatalf("after security key: %d", r.StatusCode)
	}
	// Removing the key needs the password.
	keys, _ := e.db.ListWebAuthnCredentials(t.Context(), e.users["member"].ID)
	if r, _ := nb.post("/account/webauthn/"+keys[0].ID+"/delete", url.Values{"password": {"wrong"}}); r.StatusCode != 400 {
		t.Fatalf("delete without password: %d", r.StatusCode)
	}
	if r, _ := nb.post("/account/webauthn/"+keys[0].ID+"/delete", url.Values{"password": {password}}); r.StatusCode != 303 {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if keys, _ := e.db.ListWebAuthnCredentials(t.Context(), e.users["member"].ID); len(keys) != 0 {
		t.Fatal("key not removed")
	}
}
