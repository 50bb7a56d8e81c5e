// Package web is Veil's dashboard: server-rendered pages on their own
// ServeMux, kept apart from the JSON APIs (tailscale safeweb style).
//
// # Browser routes
//
// Every route is declared once in the table returned by routes(): its
// pattern, who may reach it (public, MFA-pending, logged in) and, for
// organisation pages ({org} in the pattern), the permission it needs. The
// same table registers the routes and drives the tenant-isolation test,
// so a route cannot be added without being checked.
//
// Every request passes, in order: the CSRF check (unsafe methods only:
// Sec-Fetch-Site/Origin must be same-origin, and the form must carry the
// synchronizer token bound to the browser's session or pre-session
// cookie), the session lookup, the access check, and for organisation
// routes membership (a non-member gets 404, as if the organisation did not
// exist), role (403) and the organisation's MFA requirement.
//
// Pages use no inline script or style, so the global CSP
// (default-src 'self') applies unchanged.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/webhook"
)

// Store is the storage the dashboard reads and changes directly.
type Store interface {
	FindUserByID(ctx context.Context, id string) (*veil.User, error)
	UpdateUserPassword(ctx context.Context, userID, hash string) error
	ListUserOrgs(ctx context.Context, userID string) ([]*veil.OrgMembership, error)
	FindMembership(ctx context.Context, orgID, userID string) (*veil.Membership, error)
	FindOrgByID(ctx context.Context, id string) (*veil.Org, error)
	FindOrgSettings(ctx context.Context, orgID string) (*veil.OrgSettings, error)
	UpdateOrgSettings(ctx context.Context, orgID string, s veil.OrgSettings) error
	ListProjects(ctx context.Context, orgID string) ([]*veil.Project, error)
	ListMembers(ctx context.Context, orgID string) ([]*veil.Member, error)
	ListAudit(ctx context.Context, f veil.AuditFilter) ([]*veil.AuditEntry, error)
	FindOrgSSO(ctx context.Context, orgID string) (*veil.OrgSSO, error)
	FindUserByEmail(ctx context.Context, email string) (*veil.User, error)
	CreateUser(ctx context.Context, u *veil.User) error
	CreateMembership(ctx context.Context, m *veil.Membership) error
}

// Options configure the dashboard.
type Options struct {
	Store    Store
	Sessions *auth.Sessions
	Login    *auth.Login
	MFA      *auth.MFA
	Audit    *audit.Log
	// SSO runs OpenID Connect log-ins; Key (the instance's accounts key)
	// opens SSO client secrets and seals the flow cookie. Without them the
	// SSO routes answer 404.
	SSO *auth.SSO
	Key *keyring.DataKey
	// Passkeys enables WebAuthn security keys as a second factor (nil: off).
	Passkeys *auth.Passkeys
	// Replays reads stored recordings and events back, decrypted (nil:
	// the player and events pages answer 503).
	Replays Replays
	// Master opens project keys, for searching sessions by user id through
	// the blind index (nil: no user search).
	Master *keyring.Master
	// Keys issues, rotates and revokes write keys (nil: read-only keys).
	Keys Keys
	// Webhooks manages webhook endpoints (nil: the webhook pages answer
	// 503).
	Webhooks *webhook.Service
	// Lifecycle deletes recordings, erases and exports users and sets
	// retention (lifecycle.go; nil: those forms answer 503).
	Lifecycle Lifecycle
	// Destinations adds, tests and removes S3/SFTP destinations (nil: the
	// destination pages answer 503; the settings page still lists them).
	Destinations Destinations
	// Settings reads and saves projects' scrubbing rules and SDK masking
	// defaults (nil: the settings page shows the built-in behaviour).
	Settings ProjectSettings
	// Storage describes where data is kept, for the trust page.
	Storage StorageInfo
	// Secure marks cookies Secure (and names them __Host-…); set it when
	// the dashboard is served over HTTPS (TLS or an https base URL).
	Secure bool
	// Origin is the dashboard's public origin (scheme://host[:port]); when
	// set, unsafe requests with another Origin header are refused.
	Origin string
	Logger *slog.Logger
}

// Handler serves the dashboard.
type Handler struct {
	o    Options
	mux  *http.ServeMux
	cop  *http.CrossOriginProtection
	log  *slog.Logger
	tmpl map[string]*template.Template
}

//go:embed templates/*.html templates/partials/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// access says who may reach a route.
type access int

const (
	public     access = iota // anyone
	mfaPending               // a session waiting for its second factor
	loggedIn                 // a complete session
)

func (a access) String() string {
	return [...]string{"public", "mfa-pending", "logged-in"}[a]
}

type route struct {
	pattern string
	access  access
	perm    auth.Permission // organisation routes: needed permission
	h       func(w http.ResponseWriter, r *http.Request) error
	json    bool // answers JSON (errors too), for the page scripts
}

// Route describes a registered browser route (for tests and docs).
type Route struct {
	Pattern string
	Access  string // public, mfa-pending, logged-in
	Perm    auth.Permission
}

func (h *Handler) routes() []route {
	return []route{
		{"GET /static/", public, "", h.static, false},
		{"GET /favicon.ico", public, "", h.favicon, false},
		{"GET /login", public, "", h.loginPage, false},
		{"POST /login", public, "", h.loginSubmit, false},
		{"GET /sso/{org}", public, "", h.ssoStart, false},
		{"GET /sso/callback", public, "", h.ssoCallback, false},
		{"GET /login/mfa", mfaPending, "", h.mfaPage, false},
		{"POST /login/mfa", mfaPending, "", h.mfaSubmit, false},
		{"POST /login/webauthn/begin", mfaPending, "", h.passkeyLoginBegin, true},
		{"POST /login/webauthn/finish", mfaPending, "", h.passkeyLoginFinish, true},
		{"POST /logout", loggedIn, "", h.logout, false},
		{"POST /logout/everywhere", loggedIn, "", h.logoutEverywhere, false},
		{"GET /account", loggedIn, "", h.accountPage, false},
		{"POST /account/password", loggedIn, "", h.changePassword, false},
		{"POST /account/sessions/{session}/revoke", loggedIn, "", h.revokeSession, false},
		{"POST /account/sessions/revoke-others", loggedIn, "", h.revokeOtherSessions, false},
		{"GET /account/mfa", loggedIn, "", h.mfaSetupPage, false},
		{"POST /account/mfa", loggedIn, "", h.mfaSetupConfirm, false},
		{"GET /account/mfa/qr.png", loggedIn, "", h.mfaQR, false},
		{"POST /account/mfa/disable", loggedIn, "", h.mfaDisable, false},
		{"POST /account/webauthn/register/begin", loggedIn, "", h.passkeyRegisterBegin, true},
		{"POST /account/webauthn/register/finish", loggedIn, "", h.passkeyRegisterFinish, true},
		{"POST /account/webauthn/{key}/delete", loggedIn, "", h.passkeyDelete, false},
		{"GET /orgs/{org}", loggedIn, auth.PermOrgRead, h.orgPage, false},
		{"POST /orgs/{org}/settings", loggedIn, auth.PermSettingsManage, h.orgSettings, false},
		{"GET /orgs/{org}/audit", loggedIn, auth.PermAuditRead, h.orgAudit, false},
		{"GET /orgs/{org}/projects", loggedIn, auth.PermProjectRead, h.projectList, false},
		{"GET /orgs/{org}/projects/{project}/sessions", loggedIn, auth.PermReplayView, h.sessionList, false},
		{"GET /orgs/{org}/projects/{project}/sessions/{session}", loggedIn, auth.PermReplayView, h.sessionPage, false},
		{"GET /orgs/{org}/projects/{project}/sessions/{session}/replay.ndjson", loggedIn, auth.PermReplayView, h.sessionReplay, true},
		{"GET /orgs/{org}/projects/{project}/events", loggedIn, auth.PermReplayView, h.eventList, false},
		{"GET /orgs/{org}/projects/{project}/events/{message}", loggedIn, auth.PermReplayView, h.eventPage, false},
		{"GET /orgs/{org}/projects/{project}/settings", loggedIn, auth.PermKeysRead, h.projectSettings, false},
		{"POST /orgs/{org}/projects/{project}/keys", loggedIn, auth.PermKeysManage, h.createKey, false},
		{"POST /orgs/{org}/projects/{project}/keys/{key}/rotate", loggedIn, auth.PermKeysManage, h.rotateKey, false},
		{"POST /orgs/{org}/projects/{project}/keys/{key}/revoke", loggedIn, auth.PermKeysManage, h.revokeKey, false},
		{"POST /orgs/{org}/projects/{project}/keys/{key}/origins", loggedIn, auth.PermKeysManage, h.keyOrigins, false},
		{"POST /orgs/{org}/projects/{project}/settings/scrub-rules", loggedIn, auth.PermProjectManage, h.saveScrubRules, false},
		{"POST /orgs/{org}/projects/{project}/settings/sdk", loggedIn, auth.PermProjectManage, h.saveSDKSettings, false},
		{"POST /orgs/{org}/projects/{project}/settings/scrub-test", loggedIn, auth.PermKeysRead, h.tryScrub, true},
		{"GET /orgs/{org}/projects/{project}/trust", loggedIn, auth.PermProjectRead, h.trustPage, false},
		// Webhooks (webhooks.go): read like keys, change like the API (admins).
		{"GET /orgs/{org}/projects/{project}/webhooks", loggedIn, auth.PermKeysRead, h.webhookList, false},
		{"POST /orgs/{org}/projects/{project}/webhooks", loggedIn, auth.PermDestinationsManage, h.webhookCreate, false},
		{"GET /orgs/{org}/projects/{project}/webhooks/{webhook}", loggedIn, auth.PermKeysRead, h.webhookPage, false},
		{"POST /orgs/{org}/projects/{project}/webhooks/{webhook}", loggedIn, auth.PermDestinationsManage, h.webhookEdit, false},
		{"POST /orgs/{org}/projects/{project}/webhooks/{webhook}/rotate", loggedIn, auth.PermDestinationsManage, h.webhookRotate, false},
		{"POST /orgs/{org}/projects/{project}/webhooks/{webhook}/test", loggedIn, auth.PermDestinationsManage, h.webhookTest, false},
		{"POST /orgs/{org}/projects/{project}/webhooks/{webhook}/delete", loggedIn, auth.PermDestinationsManage, h.webhookDelete, false},
		{"GET /orgs/{org}/projects/{project}/webhooks/{webhook}/messages/{message}", loggedIn, auth.PermKeysRead, h.webhookMessagePage, false},
		{"POST /orgs/{org}/projects/{project}/webhooks/{webhook}/messages/{message}/resend", loggedIn, auth.PermDestinationsManage, h.webhookResend, false},
		// Data lifecycle (lifecycle.go): the permissions of the matching API routes.
		{"POST /orgs/{org}/projects/{project}/sessions/{session}/delete", loggedIn, auth.PermProjectManage, h.deleteSession, false},
		{"POST /orgs/{org}/projects/{project}/retention", loggedIn, auth.PermSettingsManage, h.saveRetention, false},
		{"POST /orgs/{org}/retention", loggedIn, auth.PermSettingsManage, h.saveOrgRetention, false},
		{"POST /orgs/{org}/projects/{project}/erase", loggedIn, auth.PermProjectManage, h.eraseUser, false},
		{"POST /orgs/{org}/projects/{project}/export-user", loggedIn, auth.PermDataExport, h.exportUser, false},
		// Destinations (destinations.go): read like keys, change like the API (admins).
		{"GET /orgs/{org}/projects/{project}/destinations", loggedIn, auth.PermKeysRead, h.destinationList, false},
		{"POST /orgs/{org}/projects/{project}/destinations", loggedIn, auth.PermDestinationsManage, h.destinationCreate, false},
		{"GET /orgs/{org}/projects/{project}/destinations/{destination}", loggedIn, auth.PermKeysRead, h.destinationPage, false},
		{"POST /orgs/{org}/projects/{project}/destinations/{destination}/edit", loggedIn, auth.PermDestinationsManage, h.destinationEdit, false},
		{"POST /orgs/{org}/projects/{project}/destinations/{destination}/test", loggedIn, auth.PermDestinationsManage, h.destinationTest, false},
		{"POST /orgs/{org}/projects/{project}/destinations/{destination}/pause", loggedIn, auth.PermDestinationsManage, h.destinationPause, false},
		{"POST /orgs/{org}/projects/{project}/destinations/{destination}/resume", loggedIn, auth.PermDestinationsManage, h.destinationResume, false},
		{"POST /orgs/{org}/projects/{project}/destinations/{destination}/delete", loggedIn, auth.PermDestinationsManage, h.destinationDelete, false},
	}
}

// New returns the dashboard handler.
func New(o Options) *Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	h := &Handler{o: o, mux: http.NewServeMux(), cop: http.NewCrossOriginProtection(), log: o.Logger, tmpl: parseTemplates()}
	for _, rt := range h.routes() {
		h.mux.Handle(rt.pattern, h.wrap(rt))
	}
	return h
}

// Routes lists the registered routes.
func (h *Handler) Routes() []Route {
	var out []Route
	for _, rt := range h.routes() {
		out = append(out, Route{rt.pattern, rt.access.String(), rt.perm})
	}
	return out
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{
		"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	}
	// Partials (templates/partials/) are shared by pages, never pages.
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html"))
	pages, _ := fs.Glob(templateFS, "templates/*.html")
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, p))
	}
	return out
}

type ctxKey int

const (
	principalKey ctxKey = iota
	memberKey
)

// principal is the logged-in browser of a request.
type principal struct {
	token   string // the session cookie value: never logged or rendered
	session *veil.WebSession
	user    *veil.User
}

// User returns the logged-in user of a dashboard request, or nil.
func User(ctx context.Context) *veil.User {
	if p, _ := ctx.Value(principalKey).(*principal); p != nil {
		return p.user
	}
	return nil
}

// Membership returns the caller's membership of the organisation of an
// organisation route, or nil.
func Membership(ctx context.Context) *veil.Membership {
	m, _ := ctx.Value(memberKey).(*veil.Membership)
	return m
}

func (h *Handler) sessionCookie() string {
	if h.o.Secure {
		return "__Host-veil_session"
	}
	return "veil_session"
}

func (h *Handler) csrfCookie() string {
	if h.o.Secure {
		return "__Host-veil_csrf"
	}
	return "veil_csrf"
}

// wrap applies the CSRF check, session lookup, access and organisation
// checks to one route, and renders its error.
func (h *Handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		ctx := audit.NewContext(r.Context(), h.o.Audit)
		ctx = audit.WithActor(ctx, audit.Actor{Kind: audit.ActorAnonymous, IP: clientIP(r)})
		r = r.WithContext(ctx)
		if err := h.serve(rt, w, r); err != nil {
			if rt.json {
				h.jsonError(w, r, err)
				return
			}
			h.renderError(w, r, err)
		}
	})
}

func (h *Handler) serve(rt route, w http.ResponseWriter, r *http.Request) error {
	p, err := h.principal(r)
	if err != nil {
		return err
	}
	if !isSafe(r.Method) {
		if err := h.checkCSRF(r, p); err != nil {
			return err
		}
	}
	switch {
	case rt.access == mfaPending && (p == nil || !p.session.MFAPending):
		return redirect(w, r, "/login")
	case rt.access == loggedIn && (p == nil || p.session.MFAPending):
		if r.Method == http.MethodGet {
			if !rt.json {
				h.rememberReturn(w, r)
			}
			return redirect(w, r, "/login")
		}
		return veil.Errorf(veil.EUNAUTHORIZED, "Log in first.")
	}
	ctx := r.Context()
	if p != nil {
		ctx = context.WithValue(ctx, principalKey, p)
		ctx = audit.WithActor(ctx, audit.Actor{Kind: audit.ActorUser, ID: p.user.ID, IP: clientIP(r)})
	}
	if rt.perm != "" {
		m, err := h.orgAccess(ctx, r.PathValue("org"), p, rt.perm)
		if err != nil {
			return err
		}
		ctx = context.WithValue(ctx, memberKey, m)
	}
	return rt.h(w, r.WithContext(ctx))
}

// orgAccess enforces membership (404 for non-members, never 403), role and
// the organisation's MFA requirement.
func (h *Handler) orgAccess(ctx context.Context, orgID string, p *principal, perm auth.Permission) (*veil.Membership, error) {
	u := p.user
	if p.session.OrgID != "" && p.session.OrgID != orgID {
		// A single sign-on session is valid for its organisation only.
		return nil, veil.Errorf(veil.ENOTFOUND, "Organisation not found.")
	}
	m, err := h.o.Store.FindMembership(ctx, orgID, u.ID)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		return nil, veil.Errorf(veil.ENOTFOUND, "Organisation not found.")
	} else if err != nil {
		return nil, err
	}
	if !auth.Can(m.Role, perm) {
		return nil, veil.Errorf(veil.EFORBIDDEN, "Your role (%s) does not allow this.", m.Role)
	}
	s, err := h.o.Store.FindOrgSettings(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if s.RequireMFA {
		on, err := h.mfaEnabled(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if !on {
			return nil, veil.Errorf(veil.EFORBIDDEN, "This organisation requires two-factor authentication. Set it up under Account, then come back.")
		}
	}
	return m, nil
}

// principal resolves the session cookie; no or a dead cookie is nil.
func (h *Handler) principal(r *http.Request) (*principal, error) {
	c, err := r.Cookie(h.sessionCookie())
	if err != nil || c.Value == "" {
		return nil, nil
	}
	s, err := h.o.Sessions.Resolve(r.Context(), c.Value)
	if veil.ErrorCode(err) == veil.EUNAUTHORIZED {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	u, err := h.o.Store.FindUserByID(r.Context(), s.UserID)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &principal{token: c.Value, session: s, user: u}, nil
}

var errCSRF = veil.Errorf(veil.EFORBIDDEN, "The form expired or came from another site. Reload the page and try again.")

// checkCSRF refuses cross-origin unsafe requests and those without the
// synchronizer token of this browser.
func (h *Handler) checkCSRF(r *http.Request, p *principal) error {
	if err := h.cop.Check(r); err != nil {
		return errCSRF
	}
	// Browsers send "Origin: null" on form posts under Referrer-Policy:
	// no-referrer (the server's default); Sec-Fetch-Site, checked above,
	// and the token below still apply.
	if o := r.Header.Get("Origin"); o != "" && o != "null" && h.o.Origin != "" && o != h.o.Origin {
		return errCSRF
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf_token")
	}
	if !auth.CheckCSRF(h.csrfSeed(r, p), got) {
		return errCSRF
	}
	return nil
}

// csrfSeed is the secret the CSRF token is derived from: the session token
// when logged in, else the pre-session cookie.
func (h *Handler) csrfSeed(r *http.Request, p *principal) string {
	if p != nil {
		return p.token
	}
	if c, err := r.Cookie(h.csrfCookie()); err == nil && auth.ParseSessionToken(c.Value) == nil {
		return c.Value
	}
	return ""
}

// ensurePreSession sets the pre-session cookie (the CSRF seed of the
// log-in form) when missing and returns its value.
func (h *Handler) ensurePreSession(w http.ResponseWriter, r *http.Request) string {
	if seed := h.csrfSeed(r, nil); seed != "" {
		return seed
	}
	tok, _ := auth.NewSessionToken()
	http.SetCookie(w, &http.Cookie{Name: h.csrfCookie(), Value: tok, Path: "/", HttpOnly: true, Secure: h.o.Secure, SameSite: http.SameSiteLaxMode})
	return tok
}

func (h *Handler) setSession(w http.ResponseWriter, token string, s *veil.WebSession) {
	http.SetCookie(w, &http.Cookie{Name: h.sessionCookie(), Value: token, Path: "/", Expires: s.ExpiresAt,
		HttpOnly: true, Secure: h.o.Secure, SameSite: http.SameSiteLaxMode})
}

func (h *Handler) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: h.sessionCookie(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.o.Secure, SameSite: http.SameSiteLaxMode})
}

func isSafe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// clientIP is the connection's address. Veil does not trust forwarding
// headers (no proxy configuration yet).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// page is what every template gets.
type page struct {
	Title string
	CSRF  string
	User  *veil.User
	// Pending: the user has given the password, not yet the second
	// factor (no link to pages they cannot open yet).
	Pending bool
	Flash   string
	Error   string
	Data    any
	// InlineIcon: the page's CSP allows images only from data: and blob:
	// (the player), so the icon is inlined instead of fetched.
	InlineIcon bool
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, pg page) error {
	t, ok := h.tmpl[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	p, _ := r.Context().Value(principalKey).(*principal)
	if pg.User == nil && p != nil {
		pg.User = p.user
	}
	pg.Pending = p != nil && p.session.MFAPending
	if pg.CSRF == "" {
		seed := h.csrfSeed(r, p)
		if seed == "" {
			seed = h.ensurePreSession(w, r)
		}
		pg.CSRF = auth.CSRFToken(seed)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout.html", pg); err != nil {
		h.log.ErrorContext(r.Context(), "render", "template", name, "err", err)
	}
	return nil
}

// renderError shows err as an HTML page with its status. Internal errors
// are logged (without request content) and shown generically.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := veil.ErrorCode(err)
	if code == veil.EINTERNAL {
		h.log.ErrorContext(r.Context(), "dashboard request failed", "method", r.Method, "route", r.Pattern, "err", err)
	}
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		w.Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Seconds())+1))
	}
	status := statusFor(code)
	h.render(w, r, status, "error", page{Title: http.StatusText(status), Error: veil.ErrorMessage(err)})
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
	case veil.ERATELIMITED:
		return http.StatusTooManyRequests
	case veil.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// favicon answers the browsers and tools that ask for /favicon.ico without
// reading the page's <link rel="icon">, so that they get the icon instead
// of a 404 in the console and the logs.
func (h *Handler) favicon(w http.ResponseWriter, r *http.Request) error {
	b, err := staticFS.ReadFile("static/favicon.svg")
	if err != nil {
		return fmt.Errorf("read embedded favicon: %w", err)
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, err = w.Write(b)
	return err
}

func (h *Handler) static(w http.ResponseWriter, r *http.Request) error {
	if strings.HasSuffix(r.URL.Path, "/") {
		return veil.Errorf(veil.ENOTFOUND, "Not found.")
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.FileServerFS(staticFS).ServeHTTP(w, r)
	return nil
}
