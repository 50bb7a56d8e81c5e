package auth_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/keyring"
)

func TestMFA(t *testing.T) {
	ctx := context.Background()
	db, clk := mustStore(t)
	u := mustUser(t, db, "alice@example.com", "correct horse battery", fastParams)
	m := &auth.MFA{Store: db, Key: keyring.NewDataKey(), Now: clk.Now}

	rawURL, secret, err := m.Begin(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(rawURL)
	if pu.Scheme != "otpauth" || pu.Query().Get("secret") != secret || pu.Query().Get("issuer") != "Veil" {
		t.Fatalf("url = %s", rawURL)
	}
	st, _ := db.FindMFA(ctx, u.ID)
	if bytes.Contains([]byte(st.Secret), []byte(secret)) {
		t.Fatal("TOTP secret stored in clear")
	}
	png, err := m.QRCode(ctx, u.ID)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("QRCode = %d bytes, %v", len(png), err)
	}
	at := func(d time.Duration) string {
		c, err := totp.GenerateCode(secret, clk.Now().Add(d))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if on, _ := m.Enabled(ctx, u.ID); on {
		t.Fatal("enabled before confirm")
	}
	if _, err := m.Confirm(ctx, u.ID, "000000"); veil.ErrorCode(err) != veil.EUNAUTHORIZED && at(0) != "000000" {
		t.Fatalf("wrong code confirmed: %v", err)
	}
	codes, err := m.Confirm(ctx, u.ID, at(0))
	if err != nil || len(codes) != auth.RecoveryCodeCount {
		t.Fatalf("Confirm = %v, %v", codes, err)
	}
	if on, _ := m.Enabled(ctx, u.ID); !on {
		t.Fatal("not enabled after confirm")
	}
	// The confirming code cannot be replayed; the next step's code works
	// (clock skew +1) once.
	if _, err := m.Verify(ctx, u.ID, at(0)); veil.ErrorCode(err) != veil.EUNAUTHORIZED {
		t.Fatalf("replayed code accepted: %v", err)
	}
	if _, err := m.Verify(ctx, u.ID, at(30*time.Second)); err != nil {
		t.Fatalf("next-step code: %v", err)
	}
	if _, err := m.Verify(ctx, u.ID, at(30*time.Second)); err == nil {
		t.Fatal("replay accepted")
	}
	clk.Advance(5 * time.Minute)
	if _, err := m.Verify(ctx, u.ID, at(-30*time.Second)); err != nil {
		t.Fatalf("previous-step code (skew -1): %v", err)
	}
	if _, err := m.Verify(ctx, u.ID, at(90*time.Second)); err == nil {
		t.Fatal("code 3 steps ahead accepted")
	}
	// Recovery codes: each works once, in any case and with or without the dash.
	rec, err := m.Verify(ctx, u.ID, codes[0])
	if err != nil || !rec {
		t.Fatalf("recovery = %v, %v", rec, err)
	}
	if _, err := m.Verify(ctx, u.ID, codes[0]); err == nil {
		t.Fatal("recovery code reused")
	}
	clk.Advance(time.Hour) // let the failures above expire
	alt := codes[1][:5] + codes[1][6:]
	if rec, err := m.Verify(ctx, u.ID, alt); err != nil || !rec {
		t.Fatalf("recovery without dash = %v, %v", rec, err)
	}
	if n, _ := m.RecoveryCodesLeft(ctx, u.ID); n != auth.RecoveryCodeCount-2 {
		t.Fatalf("codes left = %d", n)
	}
	// Brute force locks the second step.
	var te *auth.ThrottledError
	for i := range 6 {
		_, err = m.Verify(ctx, u.ID, "12345"+string(rune('0'+i)))
	}
	if !errors.As(err, &te) {
		t.Fatalf("6th wrong code = %v", err)
	}
	if err := m.Disable(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if on, _ := m.Enabled(ctx, u.ID); on {
		t.Fatal("enabled after disable")
	}
	// A different data key cannot open the secret.
	if _, _, err := (&auth.MFA{Store: db, Key: keyring.NewDataKey(), Now: clk.Now}).Begin(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := m.QRCode(ctx, u.ID); err == nil {
		t.Fatal("secret opened with the wrong key")
	}
}
