package lifecycle

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"hash"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"unicode"
)

// faker replaces personal values by consistent fakes (not safe for
// concurrent use): HMAC-SHA256 under
// a random key made for one copy, so the same input gives the same fake
// within the copy and nothing links a fake to its input once the key is
// dropped (it is never written anywhere).
type faker struct {
	mac hash.Hash // HMAC-SHA256 under the copy's random key
	// known holds, lowercased, every user id, anonymous id and trait value
	// seen (and their words), so URL path segments equal to one are
	// replaced even where they look like route names.
	known map[string]bool
}

func newFaker() *faker {
	k := make([]byte, 32)
	rand.Read(k)
	return &faker{mac: hmac.New(sha256.New, k), known: map[string]bool{}}
}

var fakeEnc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// token is n characters of HMAC(kind, s).
func (f *faker) token(kind, s string, n int) string {
	m := f.mac
	m.Reset()
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(s))
	var sum [sha256.Size]byte
	t := fakeEnc.EncodeToString(m.Sum(sum[:0]))
	return t[:min(n, len(t))]
}

// remember adds a personal value (and its words) to the known set.
func (f *faker) remember(s string) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return
	}
	f.known[s] = true
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(w) >= 3 {
			f.known[w] = true
		}
	}
}

// ID fakes a user or anonymous id (one kind for both, so a user found by
// either in the source is found by the same fake in the copy).
func (f *faker) ID(s string) string { return "u-" + f.token("id", s, 16) }

// Email fakes an e-mail address under the reserved .invalid domain.
func (f *faker) Email(s string) string {
	return "user-" + f.token("email", strings.ToLower(s), 12) + "@example.invalid"
}

// IP fakes an IP address with one in 10.0.0.0/8 (IPv4) or fd00::/8 (IPv6).
func (f *faker) IP(s string) string {
	t := []byte(f.token("ip", s, 16))
	if strings.Contains(s, ":") {
		return fmt.Sprintf("fd00::%x:%x", int(t[0])<<8|int(t[1]), int(t[2])<<8|int(t[3]))
	}
	return fmt.Sprintf("10.%d.%d.%d", t[0], t[1], t[2])
}

// Text fakes free text: a token about as long as the input (6–24).
func (f *faker) Text(s string) string {
	return "x" + f.token("text", s, min(max(len(s), 6), 24)-1)
}

// String fakes one string value by its shape: e-mail, IP, URL, else text.
func (f *faker) String(s string) string {
	switch {
	case s == "":
		return s
	case looksEmail(s):
		return f.Email(s)
	case net.ParseIP(s) != nil:
		return f.IP(s)
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "/"):
		return f.URL(s, f.Text)
	}
	return f.Text(s)
}

func looksEmail(s string) bool {
	if !strings.Contains(s, "@") || strings.ContainsAny(s, " \t\n") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// mask replaces every character but white space with '*', keeping the
// length in characters (as the SDK masks text).
func mask(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return r
		}
		return '*'
	}, s)
}

// routeWord reports whether a URL path segment looks like a route name
// (lowercase letters, '-', '_', at most 24) rather than an id or a name.
func (f *faker) routeWord(seg string) bool {
	if seg == "" || len(seg) > 24 || f.known[seg] {
		return false
	}
	for _, r := range seg {
		if !(r >= 'a' && r <= 'z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// URL keeps a URL's scheme, host and route-like path segments; other path
// segments, query values and the fragment go through repl.
func (f *faker) URL(s string, repl func(string) string) string {
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil {
		return repl(s)
	}
	segs := strings.Split(u.Path, "/")
	for i, seg := range segs {
		if seg != "" && !f.routeWord(seg) {
			segs[i] = repl(seg)
		}
	}
	u.Path, u.RawPath = strings.Join(segs, "/"), ""
	if u.RawQuery != "" {
		q := u.Query()
		for k, vs := range q {
			for i := range vs {
				vs[i] = repl(vs[i])
			}
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = repl(u.Fragment), ""
	}
	return u.String()
}

// eventKeep lists the message fields kept as they are (dotted paths;
// "*" matches one level). Everything else that is a string is faked.
var eventKeep = map[string]bool{
	"type": true, "event": true, "messageId": true, "timestamp": true, "originalTimestamp": true,
	"sentAt": true, "receivedAt": true, "name": true, "category": true, "channel": true, "version": true,
	"context.library.name": true, "context.library.version": true, "context.locale": true,
	"context.timezone": true, "context.userAgent": true, "context.veil.*": true, "integrations.*": true,
	"context.os.name": true, "context.os.version": true, "context.device.type": true,
	"context.browser.name": true, "context.browser.version": true,
}

// eventURL lists the message fields that hold URLs.
var eventURL = map[string]bool{
	"context.page.url": true, "context.page.path": true, "context.page.referrer": true,
	"properties.url": true, "properties.path": true, "properties.referrer": true,
}

// eventID lists the message fields that hold user or group ids.
var eventID = map[string]bool{"userId": true, "anonymousId": true, "previousId": true, "groupId": true}

// personal is what the learning pass reads of a message.
type personal struct {
	UserID      any            `json:"userId"`
	AnonymousID any            `json:"anonymousId"`
	PreviousID  any            `json:"previousId"`
	GroupID     any            `json:"groupId"`
	Traits      map[string]any `json:"traits"`
	Context     struct {
		Traits map[string]any `json:"traits"`
	} `json:"context"`
}

// learn adds a message's personal values to the known set.
func (f *faker) learn(m *personal) {
	for _, v := range []any{m.UserID, m.AnonymousID, m.PreviousID, m.GroupID} {
		if s, ok := v.(string); ok {
			f.remember(s)
		}
	}
	walkStrings(m.Traits, f.remember)
	walkStrings(m.Context.Traits, f.remember)
}

func walkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case map[string]any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	case []any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	}
}

// Event anonymizes one stored message (JSON object) in place.
func (f *faker) Event(m map[string]any) {
	f.eventValue("", m)
}

func (f *faker) eventValue(path string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = f.eventValue(join(path, k), e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = f.eventValue(path, e)
		}
		return x
	case string:
		return f.eventString(path, x)
	case json.Number:
		if eventID[path] { // numeric user ids are ids too
			return f.ID(x.String())
		}
	}
	return v
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func (f *faker) eventString(path, s string) string {
	last := path[strings.LastIndexByte(path, '.')+1:]
	parent := ""
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent = path[:i]
	}
	switch {
	case eventKeep[path] || parent != "" && eventKeep[parent+".*"]:
		return s
	case eventID[path]:
		return f.ID(s)
	case eventURL[path]:
		return f.URL(s, f.Text)
	case strings.EqualFold(last, "email"):
		return f.Email(s)
	case strings.EqualFold(last, "ip"):
		return f.IP(s)
	}
	return f.String(s)
}
