package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/api"
	"github.com/veil-privacy/veil/internal/auth"
)

func TestAuthErrors(t *testing.T) {
	e := newEnv(t)
	orgA := e.fix.Orgs["A"].Org.ID
	tests := []struct {
		name, method, path, auth, ctype, body string
		want                                  int
	}{
		{"NoToken", "GET", "/api/v1/orgs", "", "", "", 401},
		{"Basic", "GET", "/api/v1/orgs", "Basic dTpw", "", "", 401},
		{"Garbage", "GET", "/api/v1/orgs", "Bearer nope", "", "", 401},
		{"WriteKeyIsNotAToken", "GET", "/api/v1/orgs", "Bearer veil_sk_" + strings.Repeat("a", 43), "", "", 401},
		{"UnknownRouteNeedsToken", "GET", "/api/v1/nope", "", "", "", 401},
		{"UnknownRoute", "GET", "/api/v1/nope", "Bearer " + e.fix.Tokens["owner"], "", "", 404},
		{"FormBodyRefused", "PATCH", "/api/v1/orgs/" + orgA, "Bearer " + e.fix.Tokens["owner"], "application/x-www-form-urlencoded", "retention_days=3", 415},
		{"UnknownField", "PATCH", "/api/v1/orgs/" + orgA, "Bearer " + e.fix.Tokens["owner"], "application/json", `{"nope":1}`, 400},
		{"BadLimit", "GET", "/api/v1/orgs/" + orgA + "/projects?limit=0", "Bearer " + e.fix.Tokens["owner"], "", "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.srv.URL+tt.path, strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

func TestKeys(t *testing.T) {
	e := newEnv(t)
	a := e.fix.Orgs["A"]
	base := "/api/v1/orgs/" + a.Org.ID + "/projects/" + a.Project.ID + "/keys"
	tok := e.fix.Tokens["member"]
	st, body := e.do("POST", base, tok, `{"kind":"browser","origins":["https://shop.example.com"]}`)
	nk := decodeJSON[api.NewKey](t, body)
	if st != 201 || !strings.HasPrefix(nk.Secret, "veil_wk_") {
		t.Fatalf("create: %d %s", st, body)
	}
	st, body = e.do("POST", base+"/"+nk.Key.ID+"/rotate", tok, "")
	rk := decodeJSON[api.NewKey](t, body)
	if st != 201 || rk.Key.ID == nk.Key.ID || rk.Key.Origins[0] != "https://shop.example.com" {
		t.Fatalf("rotate: %d %s", st, body)
	}
	old, _ := e.db.FindKey(context.Background(), a.Project.ID, nk.Key.ID)
	if !old.Revoked() {
		t.Fatal("rotated key not revoked")
	}
	if st, _ := e.do("POST", base+"/"+nk.Key.ID+"/rotate", tok, ""); st != 409 {
		t.Fatalf("rotate revoked key: %d", st)
	}
	if st, body := e.do("PUT", base+"/"+rk.Key.ID+"/origins", tok, `{"origins":["ftp://x"]}`); st != 400 {
		t.Fatalf("bad origin: %d %s", st, body)
	}
	_, body = e.do("GET", base+"?limit=2", tok, "")
	if strings.Contains(body, nk.Secret) || strings.Contains(body, rk.Secret) || strings.Contains(body, `"hash"`) {
		t.Fatal("key list shows secrets")
	}
	l := decodeJSON[api.List[veil.WriteKey]](t, body)
	if len(l.Items) != 2 || l.NextCursor == "" {
		t.Fatalf("page 1: %s", body)
	}
	_, body = e.do("GET", base+"?limit=2&cursor="+l.NextCursor, tok, "")
	l2 := decodeJSON[api.List[veil.WriteKey]](t, body)
	if len(l2.Items) != 2 || l2.NextCursor != "" || l2.Items[0].ID == l.Items[1].ID {
		t.Fatalf("page 2: %s", body)
	}
	// Every change is in the audit log, by this token, with no secret.
	es, _ := e.db.ListAudit(context.Background(), veil.AuditFilter{OrgID: a.Org.ID})
	actions := []string{}
	for _, en := range es {
		actions = append(actions, en.Action)
		if en.ActorKind != "token" || en.IP == "" {
			t.Fatalf("entry actor: %+v", en)
		}
		for _, v := range en.Details {
			if strings.HasPrefix(v, "veil_") {
				t.Fatalf("secret in audit: %+v", en)
			}
		}
	}
	if got := strings.Join(actions, ","); got != "key.create,key.rotate" {
		t.Fatalf("audit actions = %s", got)
	}
}

func TestMembersAndRoles(t *testing.T) {
	e := newEnv(t)
	a := e.fix.Orgs["A"]
	ctx := context.Background()
	base := "/api/v1/orgs/" + a.Org.ID + "/members"
	admin, owner := e.fix.Tokens["admin"], e.fix.Tokens["owner"]
	tests := []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"AdminCannotGrantOwner", "POST", base, admin, `{"email":"` + a.Newcomer.Email + `","role":"owner"}`, 403},
		{"UnknownUser", "POST", base, admin, `{"email":"ghost@example.com","role":"viewer"}`, 404},
		{"BadRole", "POST", base, admin, `{"email":"` + a.Newcomer.Email + `","role":"root"}`, 400},
		{"AdminAddsAdmin", "POST", base, admin, `{"email":"` + a.Newcomer.Email + `","role":"admin"}`, 201},
		{"AddTwice", "POST", base, admin, `{"email":"` + a.Newcomer.Email + `","role":"admin"}`, 409},
		{"AdminPromotesToOwner", "PATCH", base + "/" + a.Member.ID, admin, `{"role":"owner"}`, 403},
		{"OwnerPromotes", "PATCH", base + "/" + a.Member.ID, owner, `{"role":"owner"}`, 200},
		{"AdminRemovesOwner", "DELETE", base + "/" + a.Member.ID, admin, "", 403},
		{"OwnerRemovesOwner", "DELETE", base + "/" + a.Member.ID, owner, "", 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st, body := e.do(tt.method, tt.path, tt.token, tt.body); st != tt.want {
				t.Fatalf("status %d, want %d: %s", st, tt.want, body)
			}
		})
	}
	// The last owner cannot leave or be demoted.
	ms, _ := e.db.ListMembers(ctx, a.Org.ID)
	var last string
	for _, m := range ms {
		if m.Role == veil.RoleOwner {
			last = m.UserID
		}
	}
	if st, _ := e.do("DELETE", base+"/"+last, owner, ""); st != 409 {
		t.Fatalf("removing the last owner: %d", st)
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	a := e.fix.Orgs["A"]
	ctx := context.Background()
	base := "/api/v1/orgs/" + a.Org.ID + "/tokens"
	if st, _ := e.do("POST", base, e.fix.Tokens["admin"], `{"role":"owner"}`); st != 403 {
		t.Fatalf("admin made an owner token: %d", st)
	}
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	st, body := e.do("POST", base, e.fix.Tokens["admin"], `{"name":"ci","role":"member","expires_at":"`+exp+`"}`)
	nt := decodeJSON[api.NewToken](t, body)
	if st != 201 || nt.Token.ExpiresAt == nil {
		t.Fatalf("create: %d %s", st, body)
	}
	if st, _ := e.do("GET", "/api/v1/orgs/"+a.Org.ID+"/projects/"+a.Project.ID+"/keys", nt.Secret, ""); st != 200 {
		t.Fatalf("new member token: %d", st)
	}
	_, body = e.do("GET", base, e.fix.Tokens["admin"], "")
	if strings.Contains(body, nt.Secret) {
		t.Fatal("token list shows a secret")
	}
	if st, _ := e.do("DELETE", base+"/"+nt.Token.ID, e.fix.Tokens["admin"], ""); st != 204 {
		t.Fatalf("revoke: %d", st)
	}
	if st, _ := e.do("GET", "/api/v1/orgs", nt.Secret, ""); st != 401 {
		t.Fatalf("revoked token works: %d", st)
	}
	// A user's token acts with at most the user's current role, and dies
	// with the membership.
	u := a.Member // a viewer
	secret, _, err := (&auth.Tokens{Store: e.db}).Create(ctx, a.Org.ID, u.ID, "mine", veil.RoleAdmin, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := e.do("GET", base, secret, ""); st != 403 {
		t.Fatalf("viewer's admin token listed tokens: %d", st)
	}
	if err := e.db.DeleteMember(ctx, a.Org.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.do("GET", "/api/v1/orgs", secret, ""); st != 401 {
		t.Fatalf("token of a removed member works: %d", st)
	}
	tok, _ := e.db.FindAPITokenByPrefix(ctx, nt.Token.Prefix)
	if tok.LastUsedAt == nil {
		t.Fatal("last use not recorded")
	}
}

func TestCreateAndDeleteProject(t *testing.T) {
	e := newEnv(t)
	a := e.fix.Orgs["A"]
	st, body := e.do("POST", "/api/v1/orgs/"+a.Org.ID+"/projects", e.fix.Tokens["admin"], `{"name":"shop","origins":["https://shop.example"]}`)
	np := decodeJSON[api.NewProject](t, body)
	if st != 201 || !strings.HasPrefix(np.ServerKey, "veil_sk_") || np.Project.OrgID != a.Org.ID || strings.Contains(body, "wrapped") {
		t.Fatalf("create: %d %s", st, body)
	}
	if st, _ := e.do("POST", "/api/v1/orgs/"+a.Org.ID+"/projects", e.fix.Tokens["admin"], `{"name":"shop"}`); st != 409 {
		t.Fatalf("duplicate name: %d", st)
	}
	if st, _ := e.do("DELETE", "/api/v1/orgs/"+a.Org.ID+"/projects/"+np.Project.ID, e.fix.Tokens["admin"], ""); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if st, _ := e.do("GET", "/api/v1/orgs/"+a.Org.ID+"/projects/"+np.Project.ID, e.fix.Tokens["admin"], ""); st != 404 {
		t.Fatalf("deleted project: %d", st)
	}
}

func FuzzAuthorizationHeader(f *testing.F) {
	for _, s := range []string{"", "Bearer ", "Bearer veil_pat_x", "bearer  veil_pat_" + strings.Repeat("0", 52), "Basic x"} {
		f.Add(s)
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, hdr string) {
		req, _ := http.NewRequest("GET", "/api/v1/orgs", nil)
		req.Header["Authorization"] = []string{hdr}
		w := &recorder{h: http.Header{}}
		e.h.ServeHTTP(w, req)
		if w.code != 401 {
			t.Fatalf("header %q: status %d", hdr, w.code)
		}
	})
}

type recorder struct {
	h    http.Header
	code int
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(c int)           { r.code = c }

func TestSSOConfig(t *testing.T) {
	e := newEnv(t)
	a := e.fix.Orgs["A"]
	path := "/api/v1/orgs/" + a.Org.ID + "/sso"
	admin := e.fix.Tokens["admin"]
	for _, tt := range []struct {
		name, body string
		want       int
	}{
		{"PlainHTTPIssuer", `{"issuer":"http://idp.example","client_id":"c","allowed_domains":["example.com"]}`, 400},
		{"OwnerByDefault", `{"issuer":"https://idp.example","client_id":"c","allowed_domains":["example.com"],"default_role":"owner"}`, 400},
		{"NoDomains", `{"issuer":"https://idp.example","client_id":"c","allowed_domains":[]}`, 400},
		{"BadDomain", `{"issuer":"https://idp.example","client_id":"c","allowed_domains":["@x"]}`, 400},
		{"KeepSecret", `{"issuer":"https://idp2.example","client_id":"c2","allowed_domains":["Example.com"],"enabled":true}`, 200},
		{"NewSecret", `{"issuer":"https://idp2.example","client_id":"c2","client_secret":"n3w-s3cret","allowed_domains":["example.com"]}`, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, body := e.do("PUT", path, admin, tt.body)
			if st != tt.want {
				t.Fatalf("status %d, want %d: %s", st, tt.want, body)
			}
			if strings.Contains(body, "secret\"") || strings.Contains(body, "n3w-s3cret") {
				t.Fatalf("answer shows the secret: %s", body)
			}
		})
	}
	s, err := e.db.FindOrgSSO(context.Background(), a.Org.ID)
	if err != nil || s.Issuer != "https://idp2.example" || s.AllowedDomains[0] != "example.com" {
		t.Fatalf("stored = %+v, %v", s, err)
	}
	if strings.Contains(string(s.SealedSecret), "n3w-s3cret") {
		t.Fatal("client secret stored in clear")
	}
	if got, err := auth.OpenSSOSecret(tmplKey, a.Org.ID, s.SealedSecret); err != nil || got != "n3w-s3cret" {
		t.Fatalf("secret = %q, %v", got, err)
	}
	_, body := e.do("GET", path, admin, "")
	if strings.Contains(body, "n3w-s3cret") || strings.Contains(body, "sealed") {
		t.Fatalf("GET shows the secret: %s", body)
	}
}
