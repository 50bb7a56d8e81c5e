// Package api is Veil's management REST API under /api/v1/: JSON in and
// out, authenticated by API tokens (Authorization: Bearer veil_pat_…), on
// its own ServeMux apart from the dashboard (tailscale safeweb style: no
// cookies, no form bodies, so no CSRF surface).
//
// Every route is declared once in routes(), with the permission it needs
// (see auth.Can). The same table registers the routes, drives the
// tenant-isolation test and is checked against openapi.yaml, so a route
// cannot be added unchecked or undocumented.
//
// A token belongs to one organisation: any other organisation's objects,
// and objects named under the wrong parent, answer 404 exactly as missing
// ones do. A token made by a user acts with the lesser of its own role and
// the user's current role, and stops working when the user leaves the
// organisation.
//
// Errors are {"error":{"code":"…","message":"…"}} with the status of the
// code; lists are {"items":[…],"next_cursor":"…"} with ?limit= (1–200,
// default 50) and ?cursor=.
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/webhook"
)

// Store is the storage the API needs.
type Store interface {
	FindOrgByID(ctx context.Context, id string) (*veil.Org, error)
	DeleteOrg(ctx context.Context, id string) error
	FindOrgSettings(ctx context.Context, orgID string) (*veil.OrgSettings, error)
	UpdateOrgSettings(ctx context.Context, orgID string, s veil.OrgSettings) error
	CreateProject(ctx context.Context, p *veil.Project) error
	ListProjects(ctx context.Context, orgID string) ([]*veil.Project, error)
	FindOrgProject(ctx context.Context, orgID, projectID string) (*veil.Project, error)
	DeleteProject(ctx context.Context, orgID, id string) error
	ListKeys(ctx context.Context, projectID string) ([]*veil.WriteKey, error)
	FindKey(ctx context.Context, projectID, keyID string) (*veil.WriteKey, error)
	UpdateKeyOrigins(ctx context.Context, projectID, keyID string, origins []string) error
	FindUserByEmail(ctx context.Context, email string) (*veil.User, error)
	CreateMembership(ctx context.Context, m *veil.Membership) error
	FindMembership(ctx context.Context, orgID, userID string) (*veil.Membership, error)
	ListMembers(ctx context.Context, orgID string) ([]*veil.Member, error)
	FindMember(ctx context.Context, orgID, userID string) (*veil.Member, error)
	UpdateMemberRole(ctx context.Context, orgID, userID string, role veil.Role) error
	DeleteMember(ctx context.Context, orgID, userID string) error
	ListAPITokens(ctx context.Context, orgID string) ([]*veil.APIToken, error)
	ListAudit(ctx context.Context, f veil.AuditFilter) ([]*veil.AuditEntry, error)
	FindOrgSSO(ctx context.Context, orgID string) (*veil.OrgSSO, error)
	PutOrgSSO(ctx context.Context, s *veil.OrgSSO) error
}

// KeyService creates and revokes write keys (internal/provision.Service).
type KeyService interface {
	CreateKey(ctx context.Context, projectID string, kind veil.KeyKind, origins []string) (*veil.WriteKey, string, error)
	RevokeKey(ctx context.Context, projectID, keyID string) error
	RotateKey(ctx context.Context, projectID string, old *veil.WriteKey, overlap time.Duration) (*veil.WriteKey, string, error)
}

// Options configure the API.
type Options struct {
	Store  Store
	Tokens *auth.Tokens
	Keys   KeyService
	// Master wraps the data keys of projects created through the API.
	Master *keyring.Master
	// ProjectKeyAAD binds a wrapped project key (provision.ProjectKeyAAD).
	ProjectKeyAAD func(orgID, projectID string) keyring.AAD
	// SecretKey (the instance's accounts key) seals SSO client secrets.
	SecretKey *keyring.DataKey
	Audit     *audit.Log
	// Settings reads and saves projects' scrubbing rules and SDK masking
	// defaults (settings.Service); nil answers 503 on those routes.
	Settings ProjectSettings
	// Webhooks manages webhook endpoints; nil answers 503 on those routes.
	Webhooks *webhook.Service
	// Lifecycle deletes sessions, erases and exports users and sets
	// retention (lifecycle.go); nil answers 503 on those routes.
	Lifecycle Lifecycle
	// Destinations manages S3/SFTP destinations (destination.go); nil
	// answers 503 on those routes.
	Destinations DestinationService
	Logger       *slog.Logger
	Now          func() time.Time
}

// Handler serves /api/v1/.
type Handler struct {
	o   Options
	mux *http.ServeMux
	log *slog.Logger
}

type route struct {
	pattern string
	perm    auth.Permission // "" = any valid token; public routes set public
	public  bool
	h       func(w http.ResponseWriter, r *http.Request) error
}

// Route describes a registered API route.
type Route struct {
	Pattern string
	Perm    auth.Permission
	Public  bool
}

func (h *Handler) routes() []route {
	const (
		org     = "/api/v1/orgs/{org}"
		project = org + "/projects/{project}"
		key     = project + "/keys/{key}"
		hook    = project + "/webhooks/{webhook}"
		message = hook + "/messages/{message}"
		dest    = project + "/destinations/{destination}"
	)
	return []route{
		{"GET /api/v1/openapi.yaml", "", true, h.openAPI},
		{"GET /api/v1/orgs", "", false, h.listOrgs},
		{"GET " + org, auth.PermOrgRead, false, h.getOrg},
		{"PATCH " + org, auth.PermSettingsManage, false, h.updateOrg},
		{"DELETE " + org, auth.PermOrgDelete, false, h.deleteOrg},
		{"GET " + org + "/projects", auth.PermProjectRead, false, h.listProjects},
		{"POST " + org + "/projects", auth.PermProjectManage, false, h.createProject},
		{"GET " + project, auth.PermProjectRead, false, h.getProject},
		{"DELETE " + project, auth.PermProjectManage, false, h.deleteProject},
		{"GET " + project + "/scrub-rules", auth.PermProjectRead, false, h.getScrubRules},
		{"PUT " + project + "/scrub-rules", auth.PermProjectManage, false, h.putScrubRules},
		{"POST " + project + "/scrub-rules/test", auth.PermProjectRead, false, h.testScrubRules},
		{"GET " + project + "/sdk-settings", auth.PermProjectRead, false, h.getSDKSettings},
		{"PUT " + project + "/sdk-settings", auth.PermProjectManage, false, h.putSDKSettings},
		{"GET " + project + "/keys", auth.PermKeysRead, false, h.listKeys},
		{"POST " + project + "/keys", auth.PermKeysManage, false, h.createKey},
		{"POST " + key + "/rotate", auth.PermKeysManage, false, h.rotateKey},
		{"POST " + key + "/revoke", auth.PermKeysManage, false, h.revokeKey},
		{"PUT " + key + "/origins", auth.PermKeysManage, false, h.setOrigins},
		{"GET " + project + "/webhooks", auth.PermKeysRead, false, h.listWebhooks},
		{"POST " + project + "/webhooks", auth.PermDestinationsManage, false, h.createWebhook},
		{"GET " + hook, auth.PermKeysRead, false, h.getWebhook},
		{"PATCH " + hook, auth.PermDestinationsManage, false, h.updateWebhook},
		{"DELETE " + hook, auth.PermDestinationsManage, false, h.deleteWebhook},
		{"POST " + hook + "/rotate", auth.PermDestinationsManage, false, h.rotateWebhook},
		{"POST " + hook + "/test", auth.PermDestinationsManage, false, h.testWebhook},
		{"GET " + hook + "/messages", auth.PermKeysRead, false, h.listWebhookMessages},
		{"GET " + message, auth.PermKeysRead, false, h.getWebhookMessage},
		{"POST " + message + "/resend", auth.PermDestinationsManage, false, h.resendWebhookMessage},
		{"GET " + project + "/destinations", auth.PermKeysRead, false, h.listDestinations},
		{"POST " + project + "/destinations", auth.PermDestinationsManage, false, h.createDestination},
		{"GET " + dest, auth.PermKeysRead, false, h.getDestination},
		{"PATCH " + dest, auth.PermDestinationsManage, false, h.updateDestination},
		{"DELETE " + dest, auth.PermDestinationsManage, false, h.deleteDestination},
		{"POST " + dest + "/test", auth.PermDestinationsManage, false, h.testDestination},
		{"POST " + dest + "/pause", auth.PermDestinationsManage, false, h.pauseDestination},
		{"POST " + dest + "/resume", auth.PermDestinationsManage, false, h.resumeDestination},
		{"GET " + org + "/members", auth.PermMembersRead, false, h.listMembers},
		{"POST " + org + "/members", auth.PermMembersManage, false, h.addMember},
		{"PATCH " + org + "/members/{user}", auth.PermMembersManage, false, h.updateMember},
		{"DELETE " + org + "/members/{user}", auth.PermMembersManage, false, h.removeMember},
		{"GET " + org + "/tokens", auth.PermTokensManage, false, h.listTokens},
		{"POST " + org + "/tokens", auth.PermTokensManage, false, h.createToken},
		{"DELETE " + org + "/tokens/{token}", auth.PermTokensManage, false, h.revokeToken},
		{"GET " + org + "/audit", auth.PermAuditRead, false, h.listAudit},
		{"DELETE " + project + "/sessions/{session}", auth.PermProjectManage, false, h.deleteSession},
		{"POST " + project + "/erasures", auth.PermProjectManage, false, h.eraseUser},
		{"POST " + project + "/exports", auth.PermDataExport, false, h.exportUser},
		{"GET " + project + "/retention", auth.PermProjectRead, false, h.getRetention},
		{"PUT " + project + "/retention", auth.PermSettingsManage, false, h.putRetention},
		{"GET " + org + "/retention", auth.PermOrgRead, false, h.getRetention},
		{"PUT " + org + "/retention", auth.PermSettingsManage, false, h.putRetention},
		{"GET " + org + "/sso", auth.PermSettingsManage, false, h.getSSO},
		{"PUT " + org + "/sso", auth.PermSettingsManage, false, h.putSSO},
	}
}

// New returns the API handler.
func New(o Options) *Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &Handler{o: o, mux: http.NewServeMux(), log: o.Logger}
	for _, rt := range h.routes() {
		h.mux.Handle(rt.pattern, h.wrap(rt))
	}
	// Anything else under /api/v1/ is a JSON 404 (after authentication, so
	// unauthenticated callers cannot map the API).
	h.mux.Handle("/api/v1/", h.wrap(route{pattern: "/api/v1/", h: func(http.ResponseWriter, *http.Request) error {
		return veil.Errorf(veil.ENOTFOUND, "No such API route.")
	}}))
	return h
}

// Routes lists the registered routes.
func (h *Handler) Routes() []Route {
	var out []Route
	for _, rt := range h.routes() {
		out = append(out, Route{rt.pattern, rt.perm, rt.public})
	}
	return out
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

type ctxKey int

const callerKey ctxKey = 0

// Caller is the authenticated token of a request and its effective role.
type Caller struct {
	Token *veil.APIToken
	Role  veil.Role
}

// CallerFrom returns the request's caller, or nil.
func CallerFrom(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerKey).(*Caller)
	return c
}

func (h *Handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		ctx := audit.NewContext(r.Context(), h.o.Audit)
		ctx = audit.WithActor(ctx, audit.Actor{Kind: audit.ActorAnonymous, IP: clientIP(r)})
		if err := h.serve(rt, w, r.WithContext(ctx)); err != nil {
			h.writeError(w, r, err)
		}
	})
}

func (h *Handler) serve(rt route, w http.ResponseWriter, r *http.Request) error {
	if rt.public {
		return rt.h(w, r)
	}
	c, err := h.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="veil"`)
		return err
	}
	ctx := context.WithValue(r.Context(), callerKey, c)
	ctx = audit.WithActor(ctx, audit.Actor{Kind: audit.ActorToken, ID: c.Token.ID, IP: clientIP(r)})
	if orgID := r.PathValue("org"); orgID != "" || rt.perm != "" {
		if orgID != c.Token.OrgID {
			return veil.Errorf(veil.ENOTFOUND, "Organisation not found.")
		}
		// Objects named in the path must exist under their parents before
		// roles are looked at, so another tenant's object is 404 for
		// every role, never 403.
		if err := h.resolve(ctx, r); err != nil {
			return err
		}
		if !auth.Can(c.Role, rt.perm) {
			return veil.Errorf(veil.EFORBIDDEN, "This token's role (%s) does not allow this.", c.Role)
		}
	}
	if r.Body != nil && r.ContentLength != 0 && r.Method != http.MethodGet {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" {
			return veil.Errorf(veil.EUNSUPPORTED, "Request bodies must be application/json.")
		}
	}
	return rt.h(w, r.WithContext(ctx))
}

// resolve checks that each object named in the path belongs to its parent
// (and so to the token's organisation); anything else is ENOTFOUND.
func (h *Handler) resolve(ctx context.Context, r *http.Request) error {
	orgID := r.PathValue("org")
	if id := r.PathValue("project"); id != "" {
		if _, err := h.o.Store.FindOrgProject(ctx, orgID, id); err != nil {
			return err
		}
		if k := r.PathValue("key"); k != "" {
			if _, err := h.o.Store.FindKey(ctx, id, k); err != nil {
				return err
			}
		}
		if err := h.resolveWebhook(r.WithContext(ctx), id); err != nil {
			return err
		}
		if err := h.resolveDestination(r.WithContext(ctx), id); err != nil {
			return err
		}
		if err := h.resolveSession(ctx, r, id); err != nil {
			return err
		}
	}
	if id := r.PathValue("user"); id != "" {
		if _, err := h.o.Store.FindMember(ctx, orgID, id); err != nil {
			return err
		}
	}
	if id := r.PathValue("token"); id != "" {
		ts, err := h.o.Store.ListAPITokens(ctx, orgID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(ts, func(t *veil.APIToken) bool { return t.ID == id }) {
			return veil.Errorf(veil.ENOTFOUND, "Token not found.")
		}
	}
	return nil
}

// authenticate resolves the bearer token and its effective role.
func (h *Handler) authenticate(r *http.Request) (*Caller, error) {
	scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, veil.Errorf(veil.EUNAUTHORIZED, "Send an API token: Authorization: Bearer veil_pat_…")
	}
	tok, err := h.o.Tokens.Authenticate(r.Context(), strings.TrimSpace(raw))
	if err != nil {
		return nil, err
	}
	role := tok.Role
	if tok.UserID != "" {
		m, err := h.o.Store.FindMembership(r.Context(), tok.OrgID, tok.UserID)
		if veil.ErrorCode(err) == veil.ENOTFOUND {
			return nil, veil.Errorf(veil.EUNAUTHORIZED, "API token is not valid, expired or revoked.")
		} else if err != nil {
			return nil, err
		}
		if !auth.AtLeast(m.Role, role) {
			role = m.Role
		}
	}
	return &Caller{Token: tok, Role: role}, nil
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ErrorBody is the JSON shape of every error.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := veil.ErrorCode(err)
	if code == veil.EINTERNAL {
		h.log.ErrorContext(r.Context(), "api request failed", "method", r.Method, "route", r.Pattern, "err", err)
	}
	var body ErrorBody
	body.Error.Code, body.Error.Message = code, veil.ErrorMessage(err)
	writeJSON(w, statusFor(code), body)
}

func statusFor(code string) int {
	switch code {
	case veil.EINVALID:
		return http.StatusBadRequest
	case veil.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case veil.EFORBIDDEN:
		return http.StatusForbidden
	case veil.ENOTFOUND:
		return http.StatusNotFound
	case veil.ECONFLICT:
		return http.StatusConflict
	case veil.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case veil.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case veil.ERATELIMITED:
		return http.StatusTooManyRequests
	case veil.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body into v, refusing unknown fields and trailing data.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return veil.Errorf(veil.EINVALID, "Request body required.")
		}
		return veil.Errorf(veil.EINVALID, "Request body is not valid JSON for this route: %s", jsonMsg(err))
	}
	if dec.More() {
		return veil.Errorf(veil.EINVALID, "Request body has data after the JSON value.")
	}
	return nil
}

// jsonMsg keeps decoder messages short and free of echoed input.
func jsonMsg(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error"
	case errors.As(err, &te):
		return "field " + te.Field + " has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "malformed"
}

//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPI returns the embedded OpenAPI document.
func OpenAPI() []byte { return openAPISpec }

// openAPI handles "GET /api/v1/openapi.yaml".
func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openAPISpec)
	return nil
}
