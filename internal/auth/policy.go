package auth

import (
	"strings"
	"unicode/utf8"

	"github.com/veil-privacy/veil"
)

// Password policy (NIST SP 800-63B): a minimum length, no composition
// rules, and a refusal of passwords that are easy to guess for this user.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256 // argon2 hashes any length; this bounds the work per request
)

// commonPasswords are well-known passwords and stems; a password that is
// one of these, perhaps followed by digits and punctuation, is refused.
var commonPasswords = []string{
	"password", "passw0rd", "123456789", "1234567890", "qwertyuiop", "qwerty", "letmein", "welcome",
	"iloveyou", "admin", "administrator", "changeme", "trustno1", "football", "baseball", "dragon",
	"monkey", "sunshine", "princess", "superman", "starwars", "whatever", "abc123", "111111",
	"veil", "veilveil", "session", "replay", "secret",
}

// CheckPassword returns an EINVALID error saying why password is not
// acceptable for the user with email, or nil.
func CheckPassword(password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return veil.Errorf(veil.EINVALID, "The password is not valid text.")
	case n < MinPasswordLen:
		return veil.Errorf(veil.EINVALID, "The password must have at least %d characters.", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return veil.Errorf(veil.EINVALID, "The password must have at most %d bytes.", MaxPasswordLen)
	}
	lower := strings.ToLower(password)
	if distinct(lower) < 4 {
		return veil.Errorf(veil.EINVALID, "The password repeats too few characters.")
	}
	if isSequence(lower) {
		return veil.Errorf(veil.EINVALID, "The password is a simple sequence.")
	}
	stem := strings.TrimRight(lower, "0123456789!@#$%^&*?.-_ ")
	for _, c := range commonPasswords {
		if stem == c || strings.TrimLeft(stem, "0123456789") == c || lower == c {
			return veil.Errorf(veil.EINVALID, "The password is too common.")
		}
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if local, domain, ok := strings.Cut(email, "@"); ok && email != "" {
		name, _, _ := strings.Cut(domain, ".")
		for _, part := range []string{email, local, name} {
			if len(part) >= 4 && strings.Contains(lower, part) {
				return veil.Errorf(veil.EINVALID, "The password must not contain your e-mail address or its parts.")
			}
		}
	}
	return nil
}

func distinct(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// isSequence reports strings like "abcdefghijkl" or "987654321098".
func isSequence(s string) bool {
	up, down := true, true
	for i := 1; i < len(s); i++ {
		d := int(s[i]) - int(s[i-1])
		up = up && (d == 1 || (s[i-1] == '9' && s[i] == '0'))
		down = down && (d == -1 || (s[i-1] == '0' && s[i] == '9'))
	}
	return up || down
}
