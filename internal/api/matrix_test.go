package api_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/testenv"
)

// cell is what one route is expected to do. The least role is written
// here by hand, not read from the route table, so a wrong permission in
// the table fails this test.
type cell struct {
	minRole veil.Role // "" = any valid token
	public  bool      // no token needed
	ok      int       // status when allowed
	body    string    // JSON body sent
	global  bool      // no org in the path: the target does not matter
}

// matrix lists every API route. TestIsolationMatrix fails if a registered
// route is missing here (or listed here but not registered).
var matrix = map[string]cell{
	"GET /api/v1/openapi.yaml":                                                                {public: true, ok: 200, global: true},
	"GET /api/v1/orgs":                                                                        {ok: 200, global: true},
	"GET /api/v1/orgs/{org}":                                                                  {minRole: veil.RoleViewer, ok: 200},
	"PATCH /api/v1/orgs/{org}":                                                                {minRole: veil.RoleAdmin, ok: 200, body: `{"retention_days":30}`},
	"DELETE /api/v1/orgs/{org}":                                                               {minRole: veil.RoleOwner, ok: 204},
	"GET /api/v1/orgs/{org}/projects":                                                         {minRole: veil.RoleViewer, ok: 200},
	"POST /api/v1/orgs/{org}/projects":                                                        {minRole: veil.RoleAdmin, ok: 201, body: `{"name":"new","origins":["https://n.example"]}`},
	"GET /api/v1/orgs/{org}/projects/{project}":                                               {minRole: veil.RoleViewer, ok: 200},
	"DELETE /api/v1/orgs/{org}/projects/{project}":                                            {minRole: veil.RoleAdmin, ok: 204},
	"GET /api/v1/orgs/{org}/projects/{project}/keys":                                          {minRole: veil.RoleMember, ok: 200},
	"GET /api/v1/orgs/{org}/projects/{project}/scrub-rules":                                   {minRole: veil.RoleViewer, ok: 200},
	"PUT /api/v1/orgs/{org}/projects/{project}/scrub-rules":                                   {minRole: veil.RoleAdmin, ok: 200, body: `{"disabled":["ipv4"]}`},
	"POST /api/v1/orgs/{org}/projects/{project}/scrub-rules/test":                             {minRole: veil.RoleViewer, ok: 200, body: `{"text":"a@b.example"}`},
	"GET /api/v1/orgs/{org}/projects/{project}/sdk-settings":                                  {minRole: veil.RoleViewer, ok: 200},
	"PUT /api/v1/orgs/{org}/projects/{project}/sdk-settings":                                  {minRole: veil.RoleAdmin, ok: 200, body: `{"mask_all_text":true}`},
	"POST /api/v1/orgs/{org}/projects/{project}/keys":                                         {minRole: veil.RoleMember, ok: 201, body: `{"kind":"server"}`},
	"POST /api/v1/orgs/{org}/projects/{project}/keys/{key}/rotate":                            {minRole: veil.RoleMember, ok: 201},
	"POST /api/v1/orgs/{org}/projects/{project}/keys/{key}/revoke":                            {minRole: veil.RoleMember, ok: 200},
	"PUT /api/v1/orgs/{org}/projects/{project}/keys/{key}/origins":                            {minRole: veil.RoleMember, ok: 200, body: `{"origins":["https://x.example"]}`},
	"GET /api/v1/orgs/{org}/projects/{project}/webhooks":                                      {minRole: veil.RoleMember, ok: 200},
	"POST /api/v1/orgs/{org}/projects/{project}/webhooks":                                     {minRole: veil.RoleAdmin, ok: 201, body: `{"url":"https://hooks.example/new","event_types":["key.revoked"]}`},
	"GET /api/v1/orgs/{org}/projects/{project}/webhooks/{webhook}":                            {minRole: veil.RoleMember, ok: 200},
	"PATCH /api/v1/orgs/{org}/projects/{project}/webhooks/{webhook}":                          {minRole: veil.RoleAdmin, ok: 200, body: `{"description":"changed"}`},
	"DELETE /api/v1/orgs/{org}/projects/{project}/webhooks/{webhook}":                         {minRole: veil.RoleAdmin, ok: 204},
	"POST /api/v1/orgs/{org}/projects/{project}/webhooks/{webhook}/rotate":                    {minRole: veil.RoleAdmin, ok: 200},
	"POST /api/v1/orgs/{org}/projects/{project}/webhooks/{webhook}/test":                      {minRole: veil.RoleAdmin, ok: 202},
	"GET /api/v1/orgs/{org}/projects/{project}/webhooks/{webhook}/messages":                   {minRole: veil.RoleMember, ok: 200},
	"GET /api/v1/orgs/{org}/projects/{project}/webhooks/{webhook}/messages/{message}":         {minRole: veil.RoleMember, ok: 200},
	"POST /api/v1/orgs/{org}/projects/{project}/webhooks/{webhook}/messages/{message}/resend": {minRole: veil.RoleAdmin, ok: 202},
	"GET /api/v1/orgs/{org}/projects/{project}/destinations":                                  {minRole: veil.RoleMember, ok: 200},
	"POST /api/v1/orgs/{org}/projects/{project}/destinations":                                 {minRole: veil.RoleAdmin, ok: 201, body: `{"kind":"s3","mode":"do_not_store","s3":{"bucket":"new-bucket"},"secrets":{"access_key_id":"AK","secret_access_key":"SK"}}`},
	"GET /api/v1/orgs/{org}/projects/{project}/destinations/{destination}":                    {minRole: veil.RoleMember, ok: 200},
	"PATCH /api/v1/orgs/{org}/projects/{project}/destinations/{destination}":                  {minRole: veil.RoleAdmin, ok: 200, body: `{"name":"renamed","s3":{"prefix":"moved"},"secrets":{"secret_access_key":"SK2"}}`},
	"DELETE /api/v1/orgs/{org}/projects/{project}/destinations/{destination}":                 {minRole: veil.RoleAdmin, ok: 204},
	"POST /api/v1/orgs/{org}/projects/{project}/destinations/{destination}/test":              {minRole: veil.RoleAdmin, ok: 200},
	"POST /api/v1/orgs/{org}/projects/{project}/destinations/{destination}/pause":             {minRole: veil.RoleAdmin, ok: 200},
	"POST /api/v1/orgs/{org}/projects/{project}/destinations/{destination}/resume":            {minRole: veil.RoleAdmin, ok: 200},
	"GET /api/v1/orgs/{org}/members":                                                          {minRole: veil.RoleViewer, ok: 200},
	"POST /api/v1/orgs/{org}/members":                                                         {minRole: veil.RoleAdmin, ok: 201, body: `{"email":"{newcomer}","role":"viewer"}`},
	"PATCH /api/v1/orgs/{org}/members/{user}":                                                 {minRole: veil.RoleAdmin, ok: 200, body: `{"role":"member"}`},
	"DELETE /api/v1/orgs/{org}/members/{user}":                                                {minRole: veil.RoleAdmin, ok: 204},
	"GET /api/v1/orgs/{org}/tokens":                                                           {minRole: veil.RoleAdmin, ok: 200},
	"POST /api/v1/orgs/{org}/tokens":                                                          {minRole: veil.RoleAdmin, ok: 201, body: `{"name":"ci","role":"viewer"}`},
	"DELETE /api/v1/orgs/{org}/tokens/{token}":                                                {minRole: veil.RoleAdmin, ok: 204},
	"GET /api/v1/orgs/{org}/sso":                                                              {minRole: veil.RoleAdmin, ok: 200},
	"PUT /api/v1/orgs/{org}/sso":                                                              {minRole: veil.RoleAdmin, ok: 200, body: `{"issuer":"https://idp.example","client_id":"veil","client_secret":"s","allowed_domains":["example.com"],"default_role":"viewer","enabled":true}`},
	"DELETE /api/v1/orgs/{org}/projects/{project}/sessions/{session}":                         {minRole: veil.RoleAdmin, ok: 200},
	"POST /api/v1/orgs/{org}/projects/{project}/erasures":                                     {minRole: veil.RoleAdmin, ok: 200, body: `{"user_id":"u-1"}`},
	"POST /api/v1/orgs/{org}/projects/{project}/exports":                                      {minRole: veil.RoleMember, ok: 200, body: `{"user_id":"u-1"}`},
	"GET /api/v1/orgs/{org}/projects/{project}/retention":                                     {minRole: veil.RoleViewer, ok: 200},
	"PUT /api/v1/orgs/{org}/projects/{project}/retention":                                     {minRole: veil.RoleAdmin, ok: 200, body: `{"replay_days":30,"event_days":null}`},
	"GET /api/v1/orgs/{org}/retention":                                                        {minRole: veil.RoleViewer, ok: 200},
	"PUT /api/v1/orgs/{org}/retention":                                                        {minRole: veil.RoleAdmin, ok: 200, body: `{"replay_days":90,"event_days":30}`},
	"GET /api/v1/orgs/{org}/audit":                                                            {minRole: veil.RoleAdmin, ok: 200},
}

var rank = map[veil.Role]int{"": 0, veil.RoleViewer: 1, veil.RoleMember: 2, veil.RoleAdmin: 3, veil.RoleOwner: 4}

// TestIsolationMatrix calls every registered route as (no token, viewer,
// member, admin, owner of org A) against org A's objects, org B's objects,
// and org B's objects named under org A, each on a fresh copy of the
// fixture database, and checks the status of every cell.
func TestIsolationMatrix(t *testing.T) {
	routes := newEnv(t).h.Routes()
	seen := map[string]bool{}
	for _, rt := range routes {
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
	callers := []string{"none", "viewer", "member", "admin", "owner"}
	targets := []string{"A", "B", "A/B-children"}
	if testing.Short() && !testenv.InCI() {
		callers = []string{"none", "viewer", "owner"}
	}
	for _, rt := range routes {
		c := matrix[rt.Pattern]
		method, path, _ := strings.Cut(rt.Pattern, " ")
		for _, target := range targets {
			hasChild := strings.Count(path, "{") > 1 || strings.Contains(path, "{user}") || strings.Contains(path, "{token}")
			if c.global && target != "A" || target == "A/B-children" && !hasChild {
				continue
			}
			for _, caller := range callers {
				name := fmt.Sprintf("%s/%s/%s", rt.Pattern, target, caller)
				t.Run(name, func(t *testing.T) {
					e := newEnv(t)
					want := c.ok
					switch {
					case c.public:
					case caller == "none":
						want = 401
					case target != "A":
						want = 404
					case rank[veil.Role(caller)] < rank[c.minRole]:
						want = 403
					}
					token := ""
					if caller != "none" {
						token = e.fix.Tokens[caller]
					}
					got, body := e.do(method, e.fill(path, target), token, e.fill(c.body, target))
					if got != want {
						t.Fatalf("%s %s as %s: status %d, want %d\n%s", method, e.fill(path, target), caller, got, want, body)
					}
					if got >= 400 && !strings.Contains(body, `"error":{"code":`) {
						t.Fatalf("error body not in the standard shape: %s", body)
					}
				})
			}
		}
	}
}

// fill substitutes path parameters with target's objects. "A/B-children"
// names org A with org B's project, key, member and token.
func (e *env) fill(s, target string) string {
	org, child := e.fix.Orgs["A"], e.fix.Orgs["A"]
	switch target {
	case "B":
		org, child = e.fix.Orgs["B"], e.fix.Orgs["B"]
	case "A/B-children":
		child = e.fix.Orgs["B"]
	}
	return strings.NewReplacer("{org}", org.Org.ID, "{project}", child.Project.ID, "{key}", child.Key.ID,
		"{user}", child.Member.ID, "{webhook}", child.Webhook.ID, "{message}", child.Message.ID, "{token}", child.Spare.ID, "{session}", child.Session.ID, "{destination}", child.Dest.ID, "{newcomer}", child.Newcomer.Email).Replace(s)
}

// TestOpenAPIInSync checks docs/openapi.yaml is the served document and
// documents exactly the registered routes.
func TestOpenAPIInSync(t *testing.T) {
	doc, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	status, served := e.do("GET", "/api/v1/openapi.yaml", "", "")
	if status != 200 || served != string(doc) {
		t.Fatal("docs/openapi.yaml differs from the served document (internal/api/openapi.yaml): copy one over the other")
	}
	documented := map[string]bool{}
	var path string
	for _, line := range strings.Split(served, "\n") {
		switch {
		case strings.HasPrefix(line, "  /"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case strings.HasPrefix(line, "components:"):
			path = ""
		case path != "" && len(line) > 4 && line[:4] == "    " && line[4] != ' ':
			m, _, _ := strings.Cut(strings.TrimSpace(line), ":")
			if m != "parameters" {
				documented[strings.ToUpper(m)+" "+path] = true
			}
		}
	}
	registered := map[string]bool{}
	for _, rt := range e.h.Routes() {
		registered[rt.Pattern] = true
		if !documented[rt.Pattern] {
			t.Errorf("route %s is not documented in openapi.yaml", rt.Pattern)
		}
	}
	for d := range documented {
		if !registered[d] {
			t.Errorf("openapi.yaml documents %s, which is not registered", d)
		}
	}
}
