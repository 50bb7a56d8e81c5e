package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// A page opened while logged out (a shared player link with ?t=, say)
// is remembered in a short-lived HttpOnly cookie while the browser goes
// through the log-in, the MFA step or single sign-on, and opened after it.
// A cookie rather than a form field because it survives every step
// (password, TOTP, security key, the identity provider's round trip)
// without each one carrying it. Only a same-site path is ever stored or
// followed (safeReturn), so it cannot become an open redirect.

// maxReturnLen bounds a return address; longer ones fall back to /account.
const maxReturnLen = 2048

// returnTTL is how long a remembered page waits for the log-in.
const returnTTL = 15 * time.Minute

func (h *Handler) returnCookie() string {
	if h.o.Secure {
		return "__Host-veil_return"
	}
	return "veil_return"
}

// safeReturn returns s if it is a path on this site to go back to after
// log-in ("/orgs/…?t=90s"), else "". It refuses anything a browser could
// resolve to another host or scheme: "//host", "/\host" (browsers read a
// backslash as a slash), "scheme:…", and also control characters (raw or
// percent-encoded: no header splitting, no "\t" tricks), non-ASCII bytes,
// fragments and over-long values.
func safeReturn(s string) string {
	if s == "" || len(s) > maxReturnLen || s[0] != '/' {
		return ""
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' || c == '#' {
			return ""
		}
	}
	// What a server or proxy decoding the path once would see must pass
	// the same checks ("/%2F%2Fhost", "/%5Chost", "/%0d%0a…").
	dec, err := url.PathUnescape(s)
	if err != nil {
		return ""
	}
	if len(dec) > 1 && (dec[1] == '/' || dec[1] == '\\') {
		return ""
	}
	for i := 0; i < len(dec); i++ {
		if c := dec[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return ""
	}
	return s
}

// rememberReturn stores the page r asked for, if it is one to come back
// to (a page GET, not a script's request).
func (h *Handler) rememberReturn(w http.ResponseWriter, r *http.Request) {
	to := safeReturn(r.URL.RequestURI())
	if to == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: h.returnCookie(), Value: url.QueryEscape(to), Path: "/", MaxAge: int(returnTTL.Seconds()),
		HttpOnly: true, Secure: h.o.Secure, SameSite: http.SameSiteLaxMode})
}

// returnTo is where a completed log-in goes: the remembered page if it is
// still a safe one, else fallback. It forgets the page.
func (h *Handler) returnTo(w http.ResponseWriter, r *http.Request, fallback string) string {
	c, err := r.Cookie(h.returnCookie())
	if err != nil {
		return fallback
	}
	http.SetCookie(w, &http.Cookie{Name: h.returnCookie(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.o.Secure, SameSite: http.SameSiteLaxMode})
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return fallback
	}
	if to := safeReturn(v); to != "" {
		return to
	}
	return fallback
}
