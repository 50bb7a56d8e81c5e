package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/api"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/settings"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/webhook"
)

// fixture is the content of the template database every test copies: org
// A and org B, each with a project, a key, members and tokens.
type fixture struct {
	Master string
	Orgs   map[string]*tenant // "A", "B"
	// Tokens of org A by role; "B" is org B's owner token.
	Tokens map[string]string
}

type tenant struct {
	Org      *veil.Org
	Project  *veil.Project
	Key      *veil.WriteKey
	Member   *veil.User // a viewer, target of member changes
	Spare    *veil.APIToken
	Newcomer *veil.User // not a member yet
	Webhook  *veil.WebhookEndpoint
	Message  *veil.WebhookMessage // a webhook.test message to Webhook
	Session  *veil.Session        // a recorded session (metadata only)
	Dest     *destination.View    // an S3 destination on a closed port
}

var (
	tmplKey  = keyring.NewDataKey()
	tmplOnce sync.Once
	tmplDir  string
	tmplFix  fixture
	tmplErr  error
)

// template builds the fixture database once per test binary.
func template(t testing.TB) (string, fixture) {
	t.Helper()
	tmplOnce.Do(func() {
		ctx := context.Background()
		tmplDir, tmplErr = os.MkdirTemp("", "veil-api-")
		if tmplErr != nil {
			return
		}
		db, err := store.Open(ctx, filepath.Join(tmplDir, "veil.db"))
		if err != nil {
			tmplErr = err
			return
		}
		defer db.Close()
		if _, err := db.Migrate(ctx); err != nil {
			tmplErr = err
			return
		}
		m := keyring.NewMaster()
		tmplFix = fixture{Master: m.Export(), Orgs: map[string]*tenant{}, Tokens: map[string]string{}}
		prov := &provision.Service{Store: db, Master: m}
		toks := &auth.Tokens{Store: db}
		must := func(err error) {
			if err != nil && tmplErr == nil {
				tmplErr = err
			}
		}
		for _, name := range []string{"A", "B"} {
			np, err := prov.CreateProject(ctx, name, "p"+name, []string{"https://" + strings.ToLower(name) + ".example"})
			must(err)
			org, _ := db.FindOrgByID(ctx, np.OrgID)
			p, _ := db.FindProjectByID(ctx, np.ProjectID)
			keys, _ := db.ListKeys(ctx, p.ID)
			tn := &tenant{Org: org, Project: p, Key: keys[0]}
			for _, u := range []struct {
				email string
				role  veil.Role
				dst   **veil.User
			}{{"viewer2-" + name + "@example.com", veil.RoleViewer, &tn.Member}, {"owner-" + name + "@example.com", veil.RoleOwner, nil}, {"new-" + name + "@example.com", "", &tn.Newcomer}} {
				usr := &veil.User{Email: u.email, PasswordHash: "x"}
				must(db.CreateUser(ctx, usr))
				if u.role != "" {
					must(db.CreateMembership(ctx, &veil.Membership{OrgID: org.ID, UserID: usr.ID, Role: u.role}))
				}
				if u.dst != nil {
					*u.dst = usr
				}
			}
			sealed, _ := auth.SealSSOSecret(tmplKey, org.ID, "secret")
			must(db.PutOrgSSO(ctx, &veil.OrgSSO{OrgID: org.ID, Issuer: "https://idp.example", ClientID: "veil", SealedSecret: sealed,
				AllowedDomains: []string{"example.com"}, DefaultRole: veil.RoleViewer}))
			_, tn.Spare, err = toks.Create(ctx, org.ID, "", "spare", veil.RoleViewer, nil)
			must(err)
			whs := &webhook.Service{Store: db, Key: tmplKey}
			tn.Webhook, _, err = whs.Create(ctx, p.ID, webhook.EndpointInput{URL: "https://hooks." + strings.ToLower(name) + ".example/in"})
			must(err)
			if tn.Webhook != nil {
				tn.Message, err = whs.SendTest(ctx, p.ID, tn.Webhook.ID)
				must(err)
			}
			tn.Dest, err = (&destination.Service{Store: db, Master: m, AllowPrivate: true}).Create(ctx, p.ID, destination.Input{Kind: "s3",
				S3:      &destination.S3Config{Bucket: "bucket-" + strings.ToLower(name), Endpoint: "http://127.0.0.1:1", PathStyle: true},
				Secrets: destination.Secrets{AccessKeyID: "AK", SecretAccessKey: "SK"}})
			must(err)
			tn.Session = &veil.Session{ProjectID: p.ID, ID: "session-" + strings.ToLower(name) + "-0001", WrappedKey: []byte("wrapped")}
			must(db.CreateSession(ctx, tn.Session))
			tmplFix.Orgs[name] = tn
		}
		for _, role := range []veil.Role{veil.RoleViewer, veil.RoleMember, veil.RoleAdmin, veil.RoleOwner} {
			secret, _, err := toks.Create(ctx, tmplFix.Orgs["A"].Org.ID, "", string(role), role, nil)
			must(err)
			tmplFix.Tokens[string(role)] = secret
		}
		secret, _, err := toks.Create(ctx, tmplFix.Orgs["B"].Org.ID, "", "b", veil.RoleOwner, nil)
		must(err)
		tmplFix.Tokens["B"] = secret
	})
	if tmplErr != nil {
		t.Fatal(tmplErr)
	}
	return tmplDir, tmplFix
}

// env is an API server over a private copy of the template database.
type env struct {
	t   testing.TB
	db  *store.DB
	h   *api.Handler
	srv *httptest.Server
	fix fixture
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir, fix := template(t)
	path := filepath.Join(t.TempDir(), "veil.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, "veil.db"+suffix))
		if os.IsNotExist(err) && suffix != "" {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m, err := keyring.ParseMaster([]byte(fix.Master))
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Options{
		Store:         db,
		Tokens:        &auth.Tokens{Store: db},
		Keys:          &provision.Service{Store: db, Master: m},
		Master:        m,
		ProjectKeyAAD: provision.ProjectKeyAAD,
		SecretKey:     tmplKey,
		Audit:         &audit.Log{Store: db},
		Webhooks:      &webhook.Service{Store: db, Key: tmplKey},
		Lifecycle:     lifecycleService(t, db, m),
		Destinations:  &destination.Service{Store: db, Master: m, Timeout: 5 * time.Second, AllowPrivate: true},
		Settings:      settings.New(db),
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, h: h, srv: srv, fix: fix}
}

// do sends a request with token (none if "") and a JSON body (none if "").
func (e *env) do(method, path, token, body string) (int, string) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return v
}
