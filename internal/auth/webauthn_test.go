package auth_test

import (
	"context"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/auth/webauthntest"
	"github.com/veil-privacy/veil/internal/keyring"
)

func TestPasskeys(t *testing.T) {
	ctx := context.Background()
	db, _ := mustStore(t)
	u := mustUser(t, db, "alice@example.com", "correct horse battery", fastParams)
	bob := mustUser(t, db, "bob@example.com", "correct horse battery", fastParams)
	const origin = "https://veil.example.com"
	p, err := auth.NewPasskeys(db, keyring.NewDataKey(), origin)
	if err != nil {
		t.Fatal(err)
	}
	key := webauthntest.New(origin)

	opts, state, err := p.BeginRegistration(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	body, err := key.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.FinishRegistration(ctx, bob, state, body, "stolen"); veil.ErrorCode(err) != veil.EUNAUTHORIZED {
		t.Fatalf("another user's ceremony state accepted: %v", err)
	}
	c, err := p.FinishRegistration(ctx, u, state, body, "YubiKey")
	if err != nil || c.Name != "YubiKey" {
		t.Fatalf("FinishRegistration = %+v, %v", c, err)
	}
	if has, _ := p.Has(ctx, u.ID); !has {
		t.Fatal("Has = false")
	}
	// The same key cannot be registered twice.
	opts2, state2, _ := p.BeginRegistration(ctx, u)
	body2, _ := key.Create(opts2)
	if _, err := p.FinishRegistration(ctx, u, state2, body2, "again"); err == nil {
		t.Fatal("duplicate key registered")
	}

	login := func(k *webauthntest.Key) error {
		opts, state, err := p.BeginLogin(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		body, err := k.Get(opts)
		if err != nil {
			t.Fatal(err)
		}
		return p.FinishLogin(ctx, u, state, body)
	}
	if err := login(key); err != nil {
		t.Fatalf("login: %v", err)
	}
	if err := login(key); err != nil {
		t.Fatalf("second login: %v", err)
	}
	t.Run("WrongOrigin", func(t *testing.T) {
		phish := *key
		phish.Origin = "https://veil.example.com.evil.test"
		if err := login(&phish); err == nil {
			t.Fatal("assertion from another origin accepted")
		}
	})
	t.Run("OtherKey", func(t *testing.T) {
		other := webauthntest.New(origin)
		other.ID = key.ID // claims to be the registered key, signs with another
		if err := login(other); err == nil {
			t.Fatal("forged assertion accepted")
		}
	})
	t.Run("ClonedCounter", func(t *testing.T) {
		clone := *key
		clone.Counter = 1 // behind the stored counter
		if err := login(&clone); err == nil {
			t.Fatal("cloned key accepted")
		}
	})
	t.Run("ReplayedAssertion", func(t *testing.T) {
		opts, state, _ := p.BeginLogin(ctx, u)
		body, _ := key.Get(opts)
		if err := p.FinishLogin(ctx, u, state, body); err != nil {
			t.Fatal(err)
		}
		if err := p.FinishLogin(ctx, u, state, body); err == nil {
			t.Fatal("replayed assertion accepted")
		}
	})
	t.Run("StateOfOtherCeremony", func(t *testing.T) {
		opts, _, _ := p.BeginLogin(ctx, u)
		_, regState, _ := p.BeginRegistration(ctx, u)
		body, _ := key.Get(opts)
		if err := p.FinishLogin(ctx, u, regState, body); err == nil {
			t.Fatal("registration state accepted for a login")
		}
	})
	if err := p.Delete(ctx, bob.ID, c.ID); veil.ErrorCode(err) != veil.ENOTFOUND {
		t.Fatalf("bob deleted alice's key: %v", err)
	}
	if err := p.Delete(ctx, u.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.BeginLogin(ctx, u); veil.ErrorCode(err) != veil.EINVALID {
		t.Fatalf("login without keys: %v", err)
	}
}
