package ingest

import (
	"context"
	"net/http"
	"net/url"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/writekey"
)

// principal is an authenticated ingest caller: a live write key and the
// project it writes to.
type principal struct {
	key     *veil.WriteKey
	project *project
}

// keySource returns the write key of a request: HTTP Basic user name (as
// Segment's libraries send it), else the body's writeKey, else the query
// (sendBeacon cannot set headers).
func keySource(r *http.Request, bodyKey string) string {
	if user, _, ok := r.BasicAuth(); ok && user != "" {
		return user
	}
	if bodyKey != "" {
		return bodyKey
	}
	q := r.URL.Query()
	if k := q.Get("writeKey"); k != "" {
		return k
	}
	return q.Get("key")
}

// authenticate checks the key (constant-time against its stored hash; the
// stored record is cached for at most Options.KeyTTL and dropped when this
// process changes a key, see keyauth.go) and the request's origin against
// the key's kind:
//   - browser keys need an Origin (or, for sendBeacon, a Referer) on their
//     allowed list;
//   - server keys need none, and are refused from browsers (any Origin)
//     unless that origin is explicitly on the key's list.
func (h *Handler) authenticate(ctx context.Context, r *http.Request, bodyKey string) (*principal, error) {
	raw := keySource(r, bodyKey)
	if raw == "" {
		return nil, veil.Errorf(veil.EUNAUTHORIZED, "Missing write key: send it as the HTTP Basic user name or as writeKey.")
	}
	kind, prefix, err := writekey.Parse(raw)
	if err != nil {
		return nil, err
	}
	k, err := h.writeKeys.find(ctx, prefix)
	switch {
	case veil.ErrorCode(err) == veil.ENOTFOUND:
		return nil, veil.Errorf(veil.EUNAUTHORIZED, "Invalid write key.")
	case err != nil:
		return nil, err
	case !writekey.Verify(raw, k.Hash) || k.Kind != kind:
		return nil, veil.Errorf(veil.EUNAUTHORIZED, "Invalid write key.")
	case k.RevokedAsOf(h.now()):
		return nil, veil.Errorf(veil.EUNAUTHORIZED, "Write key has been revoked.")
	}
	origin := requestOrigin(r)
	switch k.Kind {
	case veil.KeyBrowser:
		if origin == "" {
			return nil, veil.Errorf(veil.EFORBIDDEN, "Browser keys need an Origin header from an allowed site.")
		}
		if !writekey.MatchOrigin(origin, k.Origins) {
			return nil, veil.Errorf(veil.EFORBIDDEN, "Origin is not allowed for this write key.")
		}
	case veil.KeyServer:
		if origin != "" && !writekey.MatchOrigin(origin, k.Origins) {
			return nil, veil.Errorf(veil.EFORBIDDEN, "Server keys are secret and refused from browsers; use a browser key.")
		}
	}
	p, err := h.keys.project(ctx, k.ProjectID)
	if err != nil {
		return nil, err
	}
	return &principal{key: k, project: p}, nil
}

// requestOrigin returns the Origin header, or the origin of the Referer
// when there is no Origin (navigator.sendBeacon from some browsers).
// "null" (sandboxed frames, file://) counts as an origin that never matches.
func requestOrigin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		return o
	}
	ref := r.Header.Get("Referer")
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "null"
	}
	return u.Scheme + "://" + u.Host
}
