// Package auth owns user credentials and who may do what: password hashing
// (argon2id) and policy, log-in with throttling, browser sessions, CSRF
// tokens, API tokens, TOTP second factors and the role table (Can).
//
// It holds no HTTP handlers: internal/web and internal/api call it. It
// reaches storage through the small interfaces declared here, which
// internal/store.DB implements. Secrets (passwords, session and API
// tokens, TOTP codes) are compared in constant time and never logged;
// session and API tokens are stored only as SHA-256 hashes.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters. They are stored in every hash so
// they can be raised later and old hashes still verify (and get upgraded).
type Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
	KeyLen  uint32
}

// DefaultParams follow RFC 9106's second recommended option (64 MiB, t=3).
var DefaultParams = Params{Time: 3, Memory: 64 * 1024, Threads: 2, KeyLen: 32}

// hashSlots bounds how many argon2 computations run at once: each takes
// Params.Memory (64 MiB by default), so a burst of log-in attempts must
// queue rather than exhaust memory.
var hashSlots = make(chan struct{}, max(2, runtime.NumCPU()))

func idKey(password, salt []byte, p Params, keyLen uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, keyLen)
}

// ErrMismatch is returned when a password does not match its hash.
var ErrMismatch = errors.New("password does not match")

// HashPassword returns a PHC-format argon2id hash of password.
func HashPassword(password string, p Params) (string, error) {
	if password == "" {
		return "", errors.New("empty password")
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	key := idKey([]byte(password), salt, p, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword checks password against a hash made by HashPassword, in
// constant time. needsRehash reports weaker parameters than want.
func VerifyPassword(password, hash string, want Params) (needsRehash bool, err error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("unsupported password hash format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("unsupported argon2 version")
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, errors.New("malformed argon2 parameters")
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	// Bounds keep a corrupt or hostile stored hash from costing unbounded
	// memory or time, and from panicking argon2 (zero threads).
	if err1 != nil || err2 != nil || len(key) < 16 || len(key) > 128 || p.Memory > 1<<20 || p.Time == 0 || p.Time > 20 ||
		p.Threads == 0 || p.Threads > 16 {
		return false, errors.New("malformed argon2 hash")
	}
	got := idKey([]byte(password), salt, p, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, ErrMismatch
	}
	return p.Memory < want.Memory || p.Time < want.Time, nil
}
