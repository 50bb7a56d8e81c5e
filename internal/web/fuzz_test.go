package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/web"
)

// FuzzLoginForm posts arbitrary log-in forms (and cookies) with a valid
// CSRF token: the answer is always a refusal or the form again, never a
// session for a wrong password, never a server error.
func FuzzLoginForm(f *testing.F) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(f.TempDir(), "veil.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		f.Fatal(err)
	}
	h, _ := auth.HashPassword(password, fastParams)
	if err := db.CreateUser(ctx, &veil.User{Email: "alice@example.com", PasswordHash: h}); err != nil {
		f.Fatal(err)
	}
	wh := web.New(web.Options{
		Store: db, Sessions: &auth.Sessions{Store: db}, Login: &auth.Login{Store: db, Params: fastParams},
		MFA: &auth.MFA{Store: db, Key: keyring.NewDataKey()}, Audit: &audit.Log{Store: db},
	})
	pre, _ := auth.NewSessionToken()
	for _, s := range [][3]string{
		{"alice@example.com", "wrong", ""},
		{"", "", "veil_session=vs1_x"},
		{"alice@example.com\x00", strings.Repeat("p", 300), "veil_session=" + pre},
		{"ALICE@EXAMPLE.COM ", "correct horse batter", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, email, pw, cookie string) {
		if pw == password {
			return
		}
		form := url.Values{"email": {email}, "password": {pw}, "csrf_token": {auth.CSRFToken(pre)}}
		req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Cookie", cookie)
		req.AddCookie(&http.Cookie{Name: "veil_csrf", Value: pre})
		w := httptest.NewRecorder()
		wh.ServeHTTP(w, req)
		switch w.Code {
		case 401, 403, 429, 400:
		default:
			t.Fatalf("email %q password %q cookie %q: status %d", email, pw, cookie, w.Code)
		}
		for _, c := range w.Result().Cookies() {
			if c.Name == "veil_session" && c.Value != "" {
				t.Fatal("session issued for a wrong password")
			}
		}
	})
}
