package keyring_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/keyring"
)

var projectAAD = keyring.AAD{Org: "org_1", Project: "prj_1", Kind: "project-key"}

func TestWrapUnwrap(t *testing.T) {
	m := keyring.NewMaster()
	dk := keyring.NewDataKey()
	wrapped, err := m.Wrap(dk, projectAAD)
	if err != nil {
		t.Fatal(err)
	}
	if len(wrapped) != keyring.WrappedSize {
		t.Fatalf("wrapped key is %d bytes, want %d", len(wrapped), keyring.WrappedSize)
	}
	got, err := m.Unwrap(wrapped, projectAAD)
	if err != nil {
		t.Fatalf("Unwrap: %v", err)
	}
	if got.ID() != dk.ID() {
		t.Fatalf("unwrapped key ID %s, want %s", got.ID(), dk.ID())
	}
	// The unwrapped key opens what the original sealed, and vice versa.
	sealed := MustSeal(t, dk, []byte("payload"), testAAD)
	if plain, err := got.Open(sealed, testAAD); err != nil || string(plain) != "payload" {
		t.Fatalf("Open with unwrapped key = %q, %v", plain, err)
	}
	id, byMaster, err := keyring.WrappedBy(wrapped)
	if err != nil || id != m.ID() || !byMaster {
		t.Fatalf("WrappedBy = %s, %v, %v; want %s, true", id, byMaster, err, m.ID())
	}
}

func TestUnwrap_WrongMaster(t *testing.T) {
	m1, m2 := keyring.NewMaster(), keyring.NewMaster()
	wrapped, _ := m1.Wrap(keyring.NewDataKey(), projectAAD)
	_, err := m2.Unwrap(wrapped, projectAAD)
	if !errors.Is(err, keyring.ErrWrongKey) {
		t.Fatalf("Unwrap with another master = %v, want ErrWrongKey", err)
	}
	for _, want := range []string{"wrapped by master key " + m1.ID(), "loaded master key is " + m2.ID(), "wrong --master-key-file?"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestUnwrap_Tampered(t *testing.T) {
	m := keyring.NewMaster()
	wrapped, _ := m.Wrap(keyring.NewDataKey(), projectAAD)
	tests := []struct {
		name string
		at   int
		want error
	}{
		{"Version", 0, keyring.ErrUnknownVersion},
		{"Kind", 1, keyring.ErrMalformed},
		{"KeyID", 2, keyring.ErrWrongKey},
		{"KeyIDLast", 9, keyring.ErrWrongKey},
		{"Nonce", 10, keyring.ErrAuth},
		{"Body", 30, keyring.ErrAuth},
		{"Tag", keyring.WrappedSize - 1, keyring.ErrAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := bytes.Clone(wrapped)
			bad[tt.at] ^= 0x10
			if _, err := m.Unwrap(bad, projectAAD); !errors.Is(err, tt.want) {
				t.Fatalf("Unwrap(tampered %s) = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
	t.Run("Truncated", func(t *testing.T) {
		for n := range len(wrapped) {
			want := keyring.ErrTruncated
			if n > 0 && wrapped[0] != 1 {
				want = keyring.ErrUnknownVersion
			}
			if _, err := m.Unwrap(wrapped[:n], projectAAD); !errors.Is(err, want) {
				t.Fatalf("Unwrap(first %d bytes) = %v, want %v", n, err, want)
			}
		}
	})
	t.Run("TooLong", func(t *testing.T) {
		if _, err := m.Unwrap(append(bytes.Clone(wrapped), 0), projectAAD); !errors.Is(err, keyring.ErrMalformed) {
			t.Fatalf("Unwrap(too long) = %v, want ErrMalformed", err)
		}
	})
	t.Run("WrongAAD", func(t *testing.T) {
		other := projectAAD
		other.Project = "prj_2"
		if _, err := m.Unwrap(wrapped, other); !errors.Is(err, keyring.ErrAuth) {
			t.Fatalf("Unwrap(other project) = %v, want ErrAuth", err)
		}
	})
}

func TestSessionKeys(t *testing.T) {
	project := keyring.NewDataKey()
	session := keyring.NewDataKey()
	aad := keyring.AAD{Org: "org_1", Project: "prj_1", Kind: "session-key", ID: "ses_1"}
	wrapped, err := project.WrapKey(session, aad)
	if err != nil {
		t.Fatal(err)
	}
	got, err := project.UnwrapKey(wrapped, aad)
	if err != nil || got.ID() != session.ID() {
		t.Fatalf("UnwrapKey = %v, %v; want the session key", got, err)
	}
	if _, byMaster, _ := keyring.WrappedBy(wrapped); byMaster {
		t.Fatal("WrappedBy says a session key was wrapped by a master key")
	}
	// Another project's key, or a master key, cannot unwrap it.
	if _, err := keyring.NewDataKey().UnwrapKey(wrapped, aad); !errors.Is(err, keyring.ErrWrongKey) {
		t.Fatalf("UnwrapKey with another project key = %v, want ErrWrongKey", err)
	}
	_, err = keyring.NewMaster().Unwrap(wrapped, aad)
	if !errors.Is(err, keyring.ErrWrongKey) || !strings.Contains(err.Error(), "wrapped by data key") {
		t.Fatalf("master Unwrap of a session key = %v, want ErrWrongKey naming a data key", err)
	}
}

// TestRotation: seal with a data key, wrap with m1, rewrap to m2, and read
// the data with m2 alone.
func TestRotation(t *testing.T) {
	m1, m2 := keyring.NewMaster(), keyring.NewMaster()
	dk := keyring.NewDataKey()
	sealed := MustSeal(t, dk, []byte("survives rotation"), testAAD)
	w1, _ := m1.Wrap(dk, projectAAD)

	w2, err := keyring.Rewrap(m1, m2, w1, projectAAD)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if id, _, _ := keyring.WrappedBy(w2); id != m2.ID() {
		t.Fatalf("rewrapped key names %s, want %s", id, m2.ID())
	}
	// Rewrap is idempotent, so an interrupted rotation can run again.
	again, err := keyring.Rewrap(m1, m2, w2, projectAAD)
	if err != nil || !bytes.Equal(again, w2) {
		t.Fatalf("second Rewrap = %v; want the same bytes", err)
	}

	m1 = nil // no longer needed
	dk2, err := m2.Unwrap(w2, projectAAD)
	if err != nil {
		t.Fatalf("Unwrap with new master: %v", err)
	}
	if plain, err := dk2.Open(sealed, testAAD); err != nil || string(plain) != "survives rotation" {
		t.Fatalf("Open after rotation = %q, %v", plain, err)
	}
	if _, err := keyring.Rewrap(keyring.NewMaster(), m2, w1, projectAAD); !errors.Is(err, keyring.ErrWrongKey) {
		t.Fatalf("Rewrap with wrong old master = %v, want ErrWrongKey", err)
	}
	_ = m1
}

func TestBlindIndex(t *testing.T) {
	p1, p2 := keyring.NewDataKey(), keyring.NewDataKey()
	a := p1.BlindIndex("email", "ada@example.com")
	if len(a) != 32 {
		t.Fatalf("BlindIndex length %d, want 32 hex digits", len(a))
	}
	tests := []struct {
		name  string
		got   string
		equal bool
	}{
		{"Deterministic", p1.BlindIndex("email", "ada@example.com"), true},
		{"SameKeyAfterUnwrap", unwrapped(t, p1).BlindIndex("email", "ada@example.com"), true},
		{"OtherProject", p2.BlindIndex("email", "ada@example.com"), false},
		{"OtherKind", p1.BlindIndex("user_id", "ada@example.com"), false},
		{"OtherValue", p1.BlindIndex("email", "bob@example.com"), false},
		{"KindValueBoundary", p1.BlindIndex("emai", "lada@example.com"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.got == a) != tt.equal {
				t.Fatalf("BlindIndex = %s vs %s, want equal=%v", tt.got, a, tt.equal)
			}
		})
	}
	if strings.Contains(a, "ada") {
		t.Fatal("blind index contains the value")
	}
}

func unwrapped(t *testing.T, dk *keyring.DataKey) *keyring.DataKey {
	m := keyring.NewMaster()
	w, _ := m.Wrap(dk, projectAAD)
	got, err := m.Unwrap(w, projectAAD)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
