package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"strings"

	"github.com/veil-privacy/veil"
)

// Secrets handed to clients: browser session tokens (the cookie value) and
// API tokens. Both are random, stored only as SHA-256 hashes (they carry
// 160+ bits of randomness, so a slow hash would add nothing) and compared
// in constant time.
//
//	session token  vs1_<52 base32 chars>                       (256 bits)
//	API token      veil_pat_<12-char lookup prefix><40 chars>  (260 bits)

var b32 = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

const (
	sessionTag     = "vs1_"
	sessionBodyLen = 52 // base32 of 32 bytes
	tokenTag       = "veil_pat_"
	tokenBodyLen   = 52
	// TokenPrefixLen is how many characters after "veil_pat_" identify a
	// token in the database, lists and logs.
	TokenPrefixLen = 12
)

func random32() string {
	b := make([]byte, 32)
	rand.Read(b)
	return b32.EncodeToString(b)
}

// HashSecret returns the stored form of a session or API token.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// NewSessionToken returns a new session token and its hash.
func NewSessionToken() (token string, hash []byte) {
	token = sessionTag + random32()
	return token, HashSecret(token)
}

// ParseSessionToken checks a session token's shape. It never echoes the
// token in its error.
func ParseSessionToken(s string) error {
	if len(s) != len(sessionTag)+sessionBodyLen || !strings.HasPrefix(s, sessionTag) || !validB32(s[len(sessionTag):]) {
		return veil.Errorf(veil.EUNAUTHORIZED, "Session is not valid; log in again.")
	}
	return nil
}

// NewAPIToken returns a new API token, its lookup prefix and its hash. The
// token is shown once and never stored.
func NewAPIToken() (token, prefix string, hash []byte) {
	token = tokenTag + random32()
	return token, token[len(tokenTag) : len(tokenTag)+TokenPrefixLen], HashSecret(token)
}

// ParseAPIToken checks an API token's shape and returns its lookup prefix.
// It never echoes the token in its error.
func ParseAPIToken(s string) (prefix string, err error) {
	if len(s) != len(tokenTag)+tokenBodyLen || !strings.HasPrefix(s, tokenTag) || !validB32(s[len(tokenTag):]) {
		return "", veil.Errorf(veil.EUNAUTHORIZED, "API token is not a Veil token (want Authorization: Bearer veil_pat_…).")
	}
	return s[len(tokenTag) : len(tokenTag)+TokenPrefixLen], nil
}

// VerifySecret reports, in constant time, whether secret hashes to hash.
func VerifySecret(secret string, hash []byte) bool {
	return subtle.ConstantTimeCompare(HashSecret(secret), hash) == 1
}

func validB32(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') || c == 'i' || c == 'l' || c == 'o' || c == 'u' {
			return false
		}
	}
	return true
}

// CSRFToken returns the synchronizer token for forms of the browser whose
// session (or pre-session) token is seed: HMAC-SHA256(seed, "veil/csrf/v1").
// It is bound to that one session, needs no storage, and cannot be derived
// without the HttpOnly cookie.
func CSRFToken(seed string) string {
	m := hmac.New(sha256.New, []byte(seed))
	m.Write([]byte("veil/csrf/v1"))
	return b32.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports, in constant time, whether got is seed's CSRF token.
func CheckCSRF(seed, got string) bool {
	if seed == "" || got == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(CSRFToken(seed)), []byte(got)) == 1
}
