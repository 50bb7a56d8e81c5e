package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
)

// want is one browser route's expected status per caller. The least role
// of organisation routes is written here by hand, not read from the route
// table, so a wrong permission in the table fails the test.
type want struct {
	anon     int       // no session
	loggedIn int       // any logged-in user (non-organisation routes)
	minRole  veil.Role // organisation routes: least role
	ok       int       // organisation routes: status when allowed
	form     url.Values
	path     string // concrete path when it has no {org}
}

var matrix = map[string]want{
	"GET /static/":                            {anon: 200, loggedIn: 200, path: "/static/veil.css"},
	"GET /favicon.ico":                        {anon: 200, loggedIn: 200},
	"GET /login":                              {anon: 200, loggedIn: 303},
	"POST /login":                             {anon: 401, loggedIn: 401, form: url.Values{"email": {"x@example.com"}, "password": {"wrong"}}},
	"POST /login/webauthn/begin":              {anon: 303, loggedIn: 303},
	"POST /login/webauthn/finish":             {anon: 303, loggedIn: 303},
	"POST /account/webauthn/register/begin":   {anon: 401, loggedIn: 200},
	"POST /account/webauthn/register/finish":  {anon: 401, loggedIn: 400}, // not a ceremony answer
	"POST /account/webauthn/{key}/delete":     {anon: 401, loggedIn: 400}, // no password
	"GET /login/mfa":                          {anon: 303, loggedIn: 303},
	"GET /sso/{org}":                          {anon: 404, loggedIn: 404}, // no SSO set up in this fixture
	"GET /sso/callback":                       {anon: 403, loggedIn: 403}, // no flow cookie
	"POST /login/mfa":                         {anon: 303, loggedIn: 303, form: url.Values{"code": {"123456"}}},
	"POST /logout":                            {anon: 401, loggedIn: 303},
	"POST /logout/everywhere":                 {anon: 401, loggedIn: 303},
	"GET /account":                            {anon: 303, loggedIn: 200},
	"POST /account/password":                  {anon: 401, loggedIn: 400, form: url.Values{"current": {"wrong"}}},
	"POST /account/sessions/{session}/revoke": {anon: 401, loggedIn: 404}, // always someone else's session
	"POST /account/sessions/revoke-others":    {anon: 401, loggedIn: 303},
	"GET /account/mfa":                        {anon: 303, loggedIn: 200},
	"POST /account/mfa":                       {anon: 401, loggedIn: 401, form: url.Values{"code": {"12345x"}}}, // wrong code
	"GET /account/mfa/qr.png":                 {anon: 303, loggedIn: 200},
	"POST /account/mfa/disable":               {anon: 401, loggedIn: 400, form: url.Values{"password": {"wrong"}}},
	"GET /orgs/{org}":                         {anon: 303, minRole: veil.RoleViewer, ok: 200},
	"POST /orgs/{org}/settings":               {anon: 401, minRole: veil.RoleAdmin, ok: 303, form: url.Values{"retention_days": {"9"}}},
	"GET /orgs/{org}/audit":                   {anon: 303, minRole: veil.RoleAdmin, ok: 200},
	"GET /orgs/{org}/projects":                {anon: 303, minRole: veil.RoleViewer, ok: 200},
	// {project} is org A's project, {session} a recorded session in it.
	"GET /orgs/{org}/projects/{project}/sessions":                         {anon: 303, minRole: veil.RoleViewer, ok: 200},
	"GET /orgs/{org}/projects/{project}/sessions/{session}":               {anon: 303, minRole: veil.RoleViewer, ok: 200},
	"GET /orgs/{org}/projects/{project}/sessions/{session}/replay.ndjson": {anon: 303, minRole: veil.RoleViewer, ok: 503}, // no Replays in this fixture
	"GET /orgs/{org}/projects/{project}/events":                           {anon: 303, minRole: veil.RoleViewer, ok: 503},
	"GET /orgs/{org}/projects/{project}/events/{message}":                 {anon: 303, minRole: veil.RoleViewer, ok: 400}, // no ?t=
	"GET /orgs/{org}/projects/{project}/settings":                         {anon: 303, minRole: veil.RoleMember, ok: 200},
	"POST /orgs/{org}/projects/{project}/keys":                            {anon: 401, minRole: veil.RoleMember, ok: 503, form: url.Values{"kind": {"server"}}}, // no Keys in this fixture
	"POST /orgs/{org}/projects/{project}/keys/{key}/rotate":               {anon: 401, minRole: veil.RoleMember, ok: 503},
	"POST /orgs/{org}/projects/{project}/keys/{key}/revoke":               {anon: 401, minRole: veil.RoleMember, ok: 503},
	"POST /orgs/{org}/projects/{project}/keys/{key}/origins":              {anon: 401, minRole: veil.RoleMember, ok: 404},                                      // {key} is no key
	"POST /orgs/{org}/projects/{project}/sessions/{session}/delete":       {anon: 401, minRole: veil.RoleAdmin, ok: 503, form: url.Values{"confirm": {"yes"}}}, // no Lifecycle in this fixture
	"POST /orgs/{org}/projects/{project}/retention":                       {anon: 401, minRole: veil.RoleAdmin, ok: 503, form: url.Values{"replays_days": {"30"}}},
	"POST /orgs/{org}/retention":                                          {anon: 401, minRole: veil.RoleAdmin, ok: 503, form: url.Values{"replays_days": {"30"}}},
	"POST /orgs/{org}/projects/{project}/erase":                           {anon: 401, minRole: veil.RoleAdmin, ok: 503, form: url.Values{"user_id": {"u-1"}, "confirm": {"yes"}}},
	"POST /orgs/{org}/projects/{project}/export-user":                     {anon: 401, minRole: veil.RoleMember, ok: 503, form: url.Values{"user_id": {"u-1"}}},
	"GET /orgs/{org}/projects/{project}/trust":                            {anon: 303, minRole: veil.RoleViewer, ok: 200},
	"POST /orgs/{org}/projects/{project}/settings/scrub-rules":            {anon: 401, minRole: veil.RoleAdmin, ok: 303, form: url.Values{"det_email": {"on"}, "rule_name": {"emp"}, "rule_pattern": {`EMP-\d+`}}},
	"POST /orgs/{org}/projects/{project}/settings/sdk":                    {anon: 401, minRole: veil.RoleAdmin, ok: 303, form: url.Values{"sample_percent": {"50"}, "console": {"errors"}, "network": {"off"}}},
	"POST /orgs/{org}/projects/{project}/settings/scrub-test":             {anon: 401, minRole: veil.RoleMember, ok: 200, form: url.Values{"sample": {"bob@example.com"}, "det_email": {"on"}}},
}

// webhookMatrix covers the webhook pages. {webhook} and {message} are org
// B's: another tenant's ids answer 404 inside org A's project
// (webhooks_test.go covers A's own endpoints).
var webhookMatrix = map[string]want{
	"GET /orgs/{org}/projects/{project}/webhooks":                                      {anon: 303, minRole: veil.RoleMember, ok: 200},
	"POST /orgs/{org}/projects/{project}/webhooks":                                     {anon: 401, minRole: veil.RoleAdmin, ok: 201, form: url.Values{"url": {"https://hooks.example/in"}, "enabled": {"1"}}},
	"GET /orgs/{org}/projects/{project}/webhooks/{webhook}":                            {anon: 303, minRole: veil.RoleMember, ok: 404},
	"POST /orgs/{org}/projects/{project}/webhooks/{webhook}":                           {anon: 401, minRole: veil.RoleAdmin, ok: 404, form: url.Values{"description": {"x"}}},
	"POST /orgs/{org}/projects/{project}/webhooks/{webhook}/rotate":                    {anon: 401, minRole: veil.RoleAdmin, ok: 404},
	"POST /orgs/{org}/projects/{project}/webhooks/{webhook}/test":                      {anon: 401, minRole: veil.RoleAdmin, ok: 404},
	"POST /orgs/{org}/projects/{project}/webhooks/{webhook}/delete":                    {anon: 401, minRole: veil.RoleAdmin, ok: 404},
	"GET /orgs/{org}/projects/{project}/webhooks/{webhook}/messages/{message}":         {anon: 303, minRole: veil.RoleMember, ok: 404},
	"POST /orgs/{org}/projects/{project}/webhooks/{webhook}/messages/{message}/resend": {anon: 401, minRole: veil.RoleAdmin, ok: 404},
}

// destinationMatrix covers the destination pages; this fixture has no
// destination service (503 once allowed). destinations_test.go covers
// them with a real one, other tenants' ids included.
var destinationMatrix = map[string]want{
	"GET /orgs/{org}/projects/{project}/destinations":                       {anon: 303, minRole: veil.RoleMember, ok: 503},
	"POST /orgs/{org}/projects/{project}/destinations":                      {anon: 401, minRole: veil.RoleAdmin, ok: 503, form: url.Values{"kind": {"s3"}}},
	"GET /orgs/{org}/projects/{project}/destinations/{destination}":         {anon: 303, minRole: veil.RoleMember, ok: 503},
	"POST /orgs/{org}/projects/{project}/destinations/{destination}/edit":   {anon: 401, minRole: veil.RoleAdmin, ok: 503, form: url.Values{"name": {"x"}}},
	"POST /orgs/{org}/projects/{project}/destinations/{destination}/test":   {anon: 401, minRole: veil.RoleAdmin, ok: 503},
	"POST /orgs/{org}/projects/{project}/destinations/{destination}/pause":  {anon: 401, minRole: veil.RoleAdmin, ok: 503},
	"POST /orgs/{org}/projects/{project}/destinations/{destination}/resume": {anon: 401, minRole: veil.RoleAdmin, ok: 503},
	"POST /orgs/{org}/projects/{project}/destinations/{destination}/delete": {anon: 401, minRole: veil.RoleAdmin, ok: 503, form: url.Values{"confirm": {"yes"}}},
}

func init() {
	for _, m := range []map[string]want{webhookMatrix, destinationMatrix} {
		for k, v := range m {
			matrix[k] = v
		}
	}
}

var rank = map[veil.Role]int{veil.RoleViewer: 1, veil.RoleMember: 2, veil.RoleAdmin: 3, veil.RoleOwner: 4}

// TestIsolationMatrix requests every registered browser route as (no
// session, viewer, member, admin, owner of org A) against org A and org B,
// with a valid CSRF token so that only authorisation decides.
func TestIsolationMatrix(t *testing.T) {
	e := newEnv(t, false)
	seen := map[string]bool{}
	for _, rt := range e.h.Routes() {
		seen[rt.Pattern] = true
		if _, ok := matrix[rt.Pattern]; !ok {
			t.Errorf("route %q is not in the isolation matrix: add it to matrix_test.go", rt.Pattern)
		}
	}
	for p := range matrix {
		if !seen[p] {
			t.Errorf("matrix lists %q, which is not registered", p)
		}
	}
	if t.Failed() {
		return
	}
	// Every user has an enrolment in progress (for the QR code route).
	for _, u := range e.users {
		if _, _, err := e.mfa.Begin(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	// Someone else's session, for the revoke route.
	e.login("ownerB")
	others, _ := e.db.ListWebSessions(context.Background(), e.users["ownerB"].ID)
	// A project of org A with a recorded session, for the project routes.
	projects, _ := e.db.ListProjects(context.Background(), e.orgA.ID)
	if err := e.db.CreateSession(context.Background(), &veil.Session{ProjectID: projects[0].ID, ID: others[0].ID, WrappedKey: []byte("k")}); err != nil {
		t.Fatal(err)
	}
	// Org B's webhook endpoint and one of its messages.
	projectsB, _ := e.db.ListProjects(context.Background(), e.orgB.ID)
	epB := &veil.WebhookEndpoint{ProjectID: projectsB[0].ID, URL: "https://hooks.example/b", Enabled: true, SealedSecret: []byte("sealed")}
	if err := e.db.CreateWebhookEndpoint(context.Background(), epB); err != nil {
		t.Fatal(err)
	}
	msgB := &veil.WebhookMessage{EndpointID: epB.ID, ProjectID: epB.ProjectID, EventType: "webhook.test", Payload: []byte(`{}`)}
	if err := e.db.CreateWebhookMessage(context.Background(), msgB); err != nil {
		t.Fatal(err)
	}
	for _, rt := range e.h.Routes() {
		w := matrix[rt.Pattern]
		method, path, _ := strings.Cut(rt.Pattern, " ")
		for _, target := range []*veil.Org{e.orgA, e.orgB} {
			if !strings.Contains(path, "{org}") && target == e.orgB {
				continue
			}
			for _, caller := range []string{"none", "viewer", "member", "admin", "owner"} {
				t.Run(fmt.Sprintf("%s/%s/%s", rt.Pattern, target.Name, caller), func(t *testing.T) {
					var b *browser
					if caller == "none" {
						b = e.browser()
						b.get("/login") // pre-session cookie and its CSRF token
					} else {
						b = e.login(caller)
					}
					p := strings.NewReplacer("{org}", target.ID, "{session}", others[0].ID, "{project}", projects[0].ID, "{key}", "key_none",
						"{webhook}", epB.ID, "{message}", msgB.ID, "{destination}", "dst_none").Replace(path)
					if w.path != "" {
						p = w.path
					}
					expect := w.loggedIn
					switch {
					case caller == "none":
						expect = w.anon
					case w.minRole == "":
					case target != e.orgA:
						expect = 404
					case rank[veil.Role(caller)] < rank[w.minRole]:
						expect = 403
					default:
						expect = w.ok
					}
					var status int
					var body string
					if method == "GET" {
						resp, bd := b.get(p)
						status, body = resp.StatusCode, bd
					} else {
						resp, bd := b.post(p, w.form)
						status, body = resp.StatusCode, bd
					}
					if status != expect {
						t.Fatalf("%s %s as %s: %d, want %d\n%s", method, p, caller, status, expect, body)
					}
				})
			}
		}
	}
}
