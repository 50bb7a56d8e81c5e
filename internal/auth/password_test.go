package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/veil-privacy/veil/internal/auth"
)

var fast = auth.Params{Time: 1, Memory: 1024, Threads: 1, KeyLen: 32}

func TestPassword(t *testing.T) {
	h, err := auth.HashPassword("correct horse battery", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("unexpected hash format %q", h)
	}
	if strings.Contains(h, "correct") {
		t.Fatal("hash contains the password")
	}
	if rehash, err := auth.VerifyPassword("correct horse battery", h, fast); err != nil || rehash {
		t.Fatalf("verify: rehash=%v err=%v", rehash, err)
	}
	if _, err := auth.VerifyPassword("wrong", h, fast); !errors.Is(err, auth.ErrMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
	if rehash, err := auth.VerifyPassword("correct horse battery", h, auth.DefaultParams); err != nil || !rehash {
		t.Fatalf("weaker params should ask for rehash: rehash=%v err=%v", rehash, err)
	}
	h2, _ := auth.HashPassword("correct horse battery", fast)
	if h2 == h {
		t.Fatal("salt not random")
	}
	for _, bad := range []string{"", "$bcrypt$x", "$argon2id$v=19$m=x$a$b", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA"} {
		if _, err := auth.VerifyPassword("p", bad, fast); err == nil || errors.Is(err, auth.ErrMismatch) {
			t.Errorf("malformed hash %q: err=%v", bad, err)
		}
	}
}
