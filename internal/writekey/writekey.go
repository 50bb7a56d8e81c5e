// Package writekey makes and checks ingest credentials.
//
// A key looks like veil_wk_<26 chars> (browser) or veil_sk_<43 chars>
// (server). The first 12 characters after the kind tag are a lookup prefix
// stored in clear; the whole key is stored only as SHA-256. Keys carry 130+
// bits of randomness, so a fast hash is enough (there is nothing to brute
// force); verification compares hashes in constant time.
package writekey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil"
)

const (
	browserTag = "veil_wk_"
	serverTag  = "veil_sk_"
	// PrefixLen is how many characters after the tag identify a key.
	PrefixLen = 12
)

var enc = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// Generate returns a new key of the given kind, its lookup prefix and hash.
// Browser keys are public (shipped in pages), server keys are secrets with
// more randomness.
func Generate(kind veil.KeyKind) (key, prefix string, hash []byte, err error) {
	var n int
	var tag string
	switch kind {
	case veil.KeyBrowser:
		n, tag = 20, browserTag // 160 bits
	case veil.KeyServer:
		n, tag = 32, serverTag // 256 bits
	default:
		return "", "", nil, veil.Errorf(veil.EINVALID, "Key kind must be browser or server, got %q.", kind)
	}
	b := make([]byte, n)
	rand.Read(b) // never returns an error
	key = tag + enc.EncodeToString(b)
	return key, Prefix(key), Hash(key), nil
}

// Parse checks a key's shape and returns its kind and lookup prefix. It
// never echoes the key in errors.
func Parse(key string) (veil.KeyKind, string, error) {
	var kind veil.KeyKind
	switch {
	case strings.HasPrefix(key, browserTag):
		kind = veil.KeyBrowser
	case strings.HasPrefix(key, serverTag):
		kind = veil.KeyServer
	default:
		return "", "", veil.Errorf(veil.EUNAUTHORIZED, "Write key is not a Veil key (want veil_wk_… or veil_sk_…).")
	}
	body := key[len(browserTag):]
	if len(body) < PrefixLen+8 || len(body) > 64 {
		return "", "", veil.Errorf(veil.EUNAUTHORIZED, "Write key has the wrong length.")
	}
	if _, err := enc.DecodeString(body); err != nil {
		return "", "", veil.Errorf(veil.EUNAUTHORIZED, "Write key contains invalid characters.")
	}
	return kind, Prefix(key), nil
}

// Prefix returns the stored lookup prefix of a well-formed key.
func Prefix(key string) string {
	if len(key) < len(browserTag)+PrefixLen {
		return key
	}
	return key[:len(browserTag)+PrefixLen]
}

// Hash returns the stored hash of a key.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Verify reports whether key matches the stored hash, in constant time.
func Verify(key string, hash []byte) bool {
	h := Hash(key)
	return subtle.ConstantTimeCompare(h, hash) == 1
}

// NormalizeOrigin validates an allowed-origin entry for a browser key and
// returns it in canonical form: scheme://host[:port], lower case, no path.
// A leading "*." in the host allows any subdomain (not the bare domain).
func NormalizeOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("origin %q: want scheme://host[:port], e.g. https://app.example.com", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("origin %q: scheme must be http or https", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("origin %q: must not have a path, query, fragment or user info", s)
	}
	host := strings.ToLower(u.Hostname())
	wild := strings.HasPrefix(host, "*.")
	bare := strings.TrimPrefix(host, "*.")
	if bare == "" || strings.Contains(bare, "*") {
		return "", fmt.Errorf("origin %q: a wildcard is only allowed as the first label (https://*.example.com)", s)
	}
	if wild && net.ParseIP(bare) != nil {
		return "", fmt.Errorf("origin %q: wildcards need a domain name, not an IP address", s)
	}
	if wild && !strings.Contains(bare, ".") {
		return "", fmt.Errorf("origin %q: wildcard over a top-level domain is too broad", s)
	}
	hostPart := host
	if strings.Contains(host, ":") { // IPv6 literal
		hostPart = "[" + host + "]"
	}
	out := u.Scheme + "://" + hostPart
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("origin %q: bad port", s)
		}
		if !(u.Scheme == "http" && p == "80") && !(u.Scheme == "https" && p == "443") {
			out += ":" + p
		}
	}
	return out, nil
}

// MatchOrigin reports whether an Origin header value is allowed by the list
// of normalized origins: scheme and port must match exactly; a "*." entry
// matches any deeper subdomain but never look-alikes such as
// example.com.evil.net or evil-example.com.
func MatchOrigin(origin string, allowed []string) bool {
	o, err := NormalizeOrigin(origin)
	if err != nil || strings.Contains(o, "*") {
		return false
	}
	for _, a := range allowed {
		if a == o {
			return true
		}
		scheme, rest, ok := strings.Cut(a, "://*.")
		if !ok || !strings.HasPrefix(o, scheme+"://") {
			continue
		}
		oHostPort := strings.TrimPrefix(o, scheme+"://")
		if strings.HasSuffix(oHostPort, "."+rest) && len(oHostPort) > len(rest)+1 {
			return true
		}
	}
	return false
}

// ErrNoOrigins is returned when a browser key would allow no origin at all.
var ErrNoOrigins = errors.New("browser keys need at least one --origin (e.g. https://app.example.com); without one every browser request is refused")
