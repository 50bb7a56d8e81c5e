package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/store"
)

// RunAccountsSuite runs the conformance tests of the accounts additions
// (tenancy, browser sessions, API tokens, MFA, throttling, audit, SSO).
func RunAccountsSuite(t *testing.T, open func(t *testing.T) *store.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) *store.DB)
	}{
		{"TenantScoping", testTenantScoping},
		{"Members", testMembers},
		{"OrgSettings", testOrgSettings},
		{"WebSession", testWebSession},
		{"APIToken", testAPIToken},
		{"MFA", testMFA},
		{"LoginThrottle", testLoginThrottle},
		{"Audit", testAudit},
		{"AuditConcurrent", testAuditConcurrent},
		{"OrgSSO", testOrgSSO},
		{"InstanceKey", testInstanceKey},
		{"WebAuthn", testWebAuthn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
}

// MustAddMember creates a user with email and makes it a member of orgID.
func MustAddMember(tb testing.TB, db *store.DB, orgID, email string, role veil.Role) *veil.User {
	tb.Helper()
	u := MustCreateUser(tb, db, email)
	if err := db.CreateMembership(context.Background(), &veil.Membership{OrgID: orgID, UserID: u.ID, Role: role}); err != nil {
		tb.Fatal(err)
	}
	return u
}

func testTenantScoping(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	a, b := MustCreateOrg(t, db, "a"), MustCreateOrg(t, db, "b")
	pa, pb := MustCreateProject(t, db, a.ID, "pa"), MustCreateProject(t, db, b.ID, "pb")
	ka, kb := MustCreateKey(t, db, pa.ID, "prefixa"), MustCreateKey(t, db, pb.ID, "prefixb")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"OwnProject", func() error { _, err := db.FindOrgProject(ctx, a.ID, pa.ID); return err }(), ""},
		{"OtherOrgProject", func() error { _, err := db.FindOrgProject(ctx, a.ID, pb.ID); return err }(), veil.ENOTFOUND},
		{"OwnKey", func() error { _, err := db.FindKey(ctx, pa.ID, ka.ID); return err }(), ""},
		{"OtherProjectKey", func() error { _, err := db.FindKey(ctx, pa.ID, kb.ID); return err }(), veil.ENOTFOUND},
		{"OriginsOtherProject", db.UpdateKeyOrigins(ctx, pa.ID, kb.ID, []string{"https://x.example"}), veil.ENOTFOUND},
		{"OriginsOwn", db.UpdateKeyOrigins(ctx, pb.ID, kb.ID, []string{"https://x.example"}), ""},
		{"SettingsMissingOrg", db.UpdateOrgSettings(ctx, "org_nope", veil.OrgSettings{}), veil.ENOTFOUND},
		{"RevokeTokenOtherOrg", db.RevokeAPIToken(ctx, b.ID, "tok_nope", time.Now()), veil.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.err, tt.want) })
	}
	k, err := db.FindKey(ctx, pb.ID, kb.ID)
	if err != nil || !cmp.Equal(k.Origins, []string{"https://x.example"}) {
		t.Fatalf("origins not updated: %+v, %v", k, err)
	}
}

func testMembers(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	a, b := MustCreateOrg(t, db, "a"), MustCreateOrg(t, db, "b")
	owner := MustAddMember(t, db, a.ID, "owner@example.com", veil.RoleOwner)
	viewer := MustAddMember(t, db, a.ID, "viewer@example.com", veil.RoleViewer)
	other := MustAddMember(t, db, b.ID, "other@example.com", veil.RoleOwner)

	ms, err := db.ListMembers(ctx, a.ID)
	if err != nil || len(ms) != 2 || ms[0].Email != "owner@example.com" || ms[1].Role != veil.RoleViewer {
		t.Fatalf("ListMembers = %+v, %v", ms, err)
	}
	orgs, err := db.ListUserOrgs(ctx, owner.ID)
	if err != nil || len(orgs) != 1 || orgs[0].Org.ID != a.ID || orgs[0].Role != veil.RoleOwner {
		t.Fatalf("ListUserOrgs = %+v, %v", orgs, err)
	}
	tests := []struct {
		name string
		fn   func() error
		want string
	}{
		{"FindOtherOrgMember", func() error { _, err := db.FindMember(ctx, a.ID, other.ID); return err }, veil.ENOTFOUND},
		{"RoleOtherOrgMember", func() error { return db.UpdateMemberRole(ctx, a.ID, other.ID, veil.RoleViewer) }, veil.ENOTFOUND},
		{"DeleteOtherOrgMember", func() error { return db.DeleteMember(ctx, a.ID, other.ID) }, veil.ENOTFOUND},
		{"BadRole", func() error { return db.UpdateMemberRole(ctx, a.ID, viewer.ID, "root") }, veil.EINVALID},
		{"DemoteLastOwner", func() error { return db.UpdateMemberRole(ctx, a.ID, owner.ID, veil.RoleAdmin) }, veil.ECONFLICT},
		{"DeleteLastOwner", func() error { return db.DeleteMember(ctx, a.ID, owner.ID) }, veil.ECONFLICT},
		{"PromoteViewer", func() error { return db.UpdateMemberRole(ctx, a.ID, viewer.ID, veil.RoleOwner) }, ""},
		{"DemoteOwnerNowOK", func() error { return db.UpdateMemberRole(ctx, a.ID, owner.ID, veil.RoleMember) }, ""},
		{"DeleteMember", func() error { return db.DeleteMember(ctx, a.ID, owner.ID) }, ""},
		{"DeleteAgain", func() error { return db.DeleteMember(ctx, a.ID, owner.ID) }, veil.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.fn(), tt.want) })
	}
	if err := db.UpdateUserPassword(ctx, owner.ID, "$argon2id$new"); err != nil {
		t.Fatal(err)
	}
	if u, _ := db.FindUserByID(ctx, owner.ID); u.PasswordHash != "$argon2id$new" {
		t.Fatalf("password not updated: %q", u.PasswordHash)
	}
}

func testOrgSettings(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	a := MustCreateOrg(t, db, "a")
	s, err := db.FindOrgSettings(ctx, a.ID)
	if err != nil || *s != (veil.OrgSettings{}) {
		t.Fatalf("default settings = %+v, %v", s, err)
	}
	want := veil.OrgSettings{RequireMFA: true, RetentionDays: 30}
	if err := db.UpdateOrgSettings(ctx, a.ID, want); err != nil {
		t.Fatal(err)
	}
	if s, err = db.FindOrgSettings(ctx, a.ID); err != nil || *s != want {
		t.Fatalf("settings = %+v, %v", s, err)
	}
	wantCode(t, db.UpdateOrgSettings(ctx, a.ID, veil.OrgSettings{RetentionDays: -1}), veil.EINVALID)
}

func testWebSession(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	alice, bob := MustCreateUser(t, db, "alice@example.com"), MustCreateUser(t, db, "bob@example.com")
	mk := func(u *veil.User, h string) *veil.WebSession {
		s := &veil.WebSession{UserID: u.ID, TokenHash: []byte(h), ExpiresAt: clk.Now().Add(time.Hour), IP: "127.0.0.1", UserAgent: "Firefox"}
		if err := db.CreateWebSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s1, s2, s3 := mk(alice, "h1"), mk(alice, "h2"), mk(bob, "h3")
	s4 := &veil.WebSession{UserID: bob.ID, TokenHash: []byte("h4"), ExpiresAt: clk.Now().Add(time.Hour), OrgID: "org_x"}
	if err := db.CreateWebSession(ctx, s4); err != nil {
		t.Fatal(err)
	}
	if got, err := db.FindWebSessionByHash(ctx, []byte("h4")); err != nil || got.OrgID != "org_x" {
		t.Fatalf("org-bound session = %+v, %v", got, err)
	}
	wantCode(t, db.CreateWebSession(ctx, &veil.WebSession{UserID: alice.ID, TokenHash: []byte("h1"), ExpiresAt: clk.Now()}), veil.ECONFLICT)
	got, err := db.FindWebSessionByHash(ctx, []byte("h1"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s1, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	clk.Advance(time.Minute)
	if err := db.TouchWebSession(ctx, s2.ID, clk.Now()); err != nil {
		t.Fatal(err)
	}
	list, err := db.ListWebSessions(ctx, alice.ID)
	if err != nil || len(list) != 2 || list[0].ID != s2.ID || !list[0].LastSeenAt.Equal(now(clk)) {
		t.Fatalf("ListWebSessions = %+v, %v", list, err)
	}
	wantCode(t, db.DeleteWebSession(ctx, alice.ID, s3.ID), veil.ENOTFOUND) // bob's session
	if n, err := db.DeleteUserWebSessions(ctx, alice.ID, s1.ID); err != nil || n != 1 {
		t.Fatalf("DeleteUserWebSessions = %d, %v", n, err)
	}
	wantCode(t, db.DeleteWebSession(ctx, alice.ID, s1.ID), "")
	_, err = db.FindWebSessionByHash(ctx, []byte("h1"))
	wantCode(t, err, veil.ENOTFOUND)
	if _, err := db.FindWebSessionByHash(ctx, []byte("h3")); err != nil {
		t.Fatalf("bob's session gone: %v", err)
	}
	clk.Advance(2 * time.Hour)
	if n, err := db.DeleteExpiredWebSessions(ctx, clk.Now(), clk.Now().Add(-24*time.Hour)); err != nil || n != 2 {
		t.Fatalf("DeleteExpiredWebSessions = %d, %v", n, err)
	}
}

func testAPIToken(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	a, b := MustCreateOrg(t, db, "a"), MustCreateOrg(t, db, "b")
	u := MustCreateUser(t, db, "alice@example.com")
	exp := clk.Now().Add(time.Hour)
	tok := &veil.APIToken{OrgID: a.ID, UserID: u.ID, Name: "ci", Role: veil.RoleMember, Prefix: "p1", Hash: []byte("h"), ExpiresAt: &exp}
	if err := db.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Millisecond)
	cli := &veil.APIToken{OrgID: a.ID, Name: "cli", Role: veil.RoleAdmin, Prefix: "p2", Hash: []byte("h")}
	if err := db.CreateAPIToken(ctx, cli); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.CreateAPIToken(ctx, &veil.APIToken{OrgID: a.ID, Role: veil.RoleViewer, Prefix: "p1", Hash: []byte("h")}), veil.ECONFLICT)
	wantCode(t, db.CreateAPIToken(ctx, &veil.APIToken{OrgID: a.ID, Role: "god", Prefix: "p3", Hash: []byte("h")}), veil.EINVALID)
	wantCode(t, db.CreateAPIToken(ctx, &veil.APIToken{OrgID: "org_nope", Role: veil.RoleViewer, Prefix: "p4", Hash: []byte("h")}), veil.ENOTFOUND)
	got, err := db.FindAPITokenByPrefix(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tok, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if !got.Usable(clk.Now()) || got.Usable(exp) {
		t.Fatal("Usable wrong around expiry")
	}
	clk.Advance(time.Second)
	if err := db.TouchAPIToken(ctx, tok.ID, clk.Now()); err != nil {
		t.Fatal(err)
	}
	got, _ = db.FindAPITokenByPrefix(ctx, "p1")
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(now(clk)) {
		t.Fatalf("LastUsedAt = %v", got.LastUsedAt)
	}
	wantCode(t, db.RevokeAPIToken(ctx, b.ID, tok.ID, clk.Now()), veil.ENOTFOUND)
	wantCode(t, db.RevokeAPIToken(ctx, a.ID, tok.ID, clk.Now()), "")
	list, err := db.ListAPITokens(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].RevokedAt == nil || list[1].UserID != "" {
		t.Fatalf("ListAPITokens = %+v, %v", list, err)
	}
	if l, _ := db.ListAPITokens(ctx, b.ID); len(l) != 0 {
		t.Fatalf("org b sees %d tokens", len(l))
	}
}

func testMFA(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	u := MustCreateUser(t, db, "alice@example.com")
	_, err := db.FindMFA(ctx, u.ID)
	wantCode(t, err, veil.ENOTFOUND)
	wantCode(t, db.PutPendingMFA(ctx, u.ID, "s1"), "")
	wantCode(t, db.PutPendingMFA(ctx, u.ID, "s2"), "") // restart enrolment
	m, err := db.FindMFA(ctx, u.ID)
	if err != nil || m.Enabled || m.Secret != "s2" {
		t.Fatalf("pending = %+v, %v", m, err)
	}
	wantCode(t, db.UseTOTPStep(ctx, u.ID, 100, [][]byte{[]byte("c1"), []byte("c2")}), "")
	wantCode(t, db.UseTOTPStep(ctx, u.ID, 100, nil), veil.ECONFLICT) // replay
	wantCode(t, db.UseTOTPStep(ctx, u.ID, 99, nil), veil.ECONFLICT)  // older
	wantCode(t, db.UseTOTPStep(ctx, u.ID, 101, nil), "")
	wantCode(t, db.UseTOTPStep(ctx, "usr_nope", 5, nil), veil.ENOTFOUND)
	wantCode(t, db.PutPendingMFA(ctx, u.ID, "s3"), veil.ECONFLICT) // enabled
	if m, _ = db.FindMFA(ctx, u.ID); !m.Enabled || m.EnabledAt == nil || m.LastStep != 101 {
		t.Fatalf("enabled = %+v", m)
	}
	if n, _ := db.CountRecoveryCodes(ctx, u.ID); n != 2 {
		t.Fatalf("recovery codes = %d", n)
	}
	wantCode(t, db.UseRecoveryCode(ctx, u.ID, []byte("c1")), "")
	wantCode(t, db.UseRecoveryCode(ctx, u.ID, []byte("c1")), veil.ENOTFOUND)
	wantCode(t, db.UseRecoveryCode(ctx, u.ID, []byte("zz")), veil.ENOTFOUND)
	wantCode(t, db.DeleteMFA(ctx, u.ID), "")
	wantCode(t, db.DeleteMFA(ctx, u.ID), veil.ENOTFOUND)
	if n, _ := db.CountRecoveryCodes(ctx, u.ID); n != 0 {
		t.Fatalf("recovery codes after delete = %d", n)
	}
}

func testLoginThrottle(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	lock := func(n int) time.Duration {
		if n >= 3 {
			return time.Minute
		}
		return 0
	}
	for i := 1; i <= 3; i++ {
		th, err := db.AddLoginFailure(ctx, "k", time.Hour, lock)
		if err != nil || th.Failures != i {
			t.Fatalf("failure %d: %+v, %v", i, th, err)
		}
	}
	th, _ := db.FindLoginThrottle(ctx, "k")
	if th.Failures != 3 || !th.LockedUntil.Equal(now(clk).Add(time.Minute)) {
		t.Fatalf("after 3 = %+v", th)
	}
	clk.Advance(2 * time.Hour) // window over, lock over: counting restarts
	if th, _ = db.AddLoginFailure(ctx, "k", time.Hour, lock); th.Failures != 1 {
		t.Fatalf("after window = %+v", th)
	}
	if n, err := db.DeleteStaleLoginThrottles(ctx, clk.Now()); err != nil || n != 0 {
		t.Fatalf("stale throttles in a live window = %d, %v", n, err)
	}
	clk.Advance(2 * time.Hour)
	if n, err := db.DeleteStaleLoginThrottles(ctx, clk.Now().Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteStaleLoginThrottles = %d, %v", n, err)
	}
	if _, err := db.AddLoginFailure(ctx, "k", time.Hour, lock); err != nil {
		t.Fatal(err)
	}
	if err := db.ClearLoginThrottle(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if th, _ = db.FindLoginThrottle(ctx, "k"); th.Failures != 0 {
		t.Fatalf("after clear = %+v", th)
	}
}

// chainStub is a stand-in for internal/audit's chaining: Seq increments and
// PrevHash is the previous Hash.
func chainStub(e veil.AuditEntry) func(prev *veil.AuditEntry) (*veil.AuditEntry, error) {
	return func(prev *veil.AuditEntry) (*veil.AuditEntry, error) {
		e.Seq, e.PrevHash = 1, ""
		if prev != nil {
			e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
		}
		e.ID = fmt.Sprintf("aud_%d", e.Seq)
		e.Hash = fmt.Sprintf("h%d", e.Seq)
		return &e, nil
	}
}

func testAudit(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	for i := range 5 {
		org := "org_a"
		if i%2 == 1 {
			org = "org_b"
		}
		e, err := db.AppendAudit(ctx, chainStub(veil.AuditEntry{Time: clk.Now(), OrgID: org, ActorKind: "user", ActorID: "usr_1",
			Action: "login.success", IP: "127.0.0.1", Details: map[string]string{"i": fmt.Sprint(i)}}))
		if err != nil || e.Seq != int64(i+1) {
			t.Fatalf("append %d: %+v, %v", i, e, err)
		}
	}
	all, err := db.ListAudit(ctx, veil.AuditFilter{})
	if err != nil || len(all) != 5 || all[4].PrevHash != "h4" || all[0].Details["i"] != "0" || !all[0].Time.Equal(now(clk)) {
		t.Fatalf("ListAudit = %+v, %v", all, err)
	}
	a, _ := db.ListAudit(ctx, veil.AuditFilter{OrgID: "org_a"})
	if len(a) != 3 {
		t.Fatalf("org_a entries = %d", len(a))
	}
	page, _ := db.ListAudit(ctx, veil.AuditFilter{AfterSeq: 2, Limit: 2})
	if len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
		t.Fatalf("page = %+v", page)
	}
}

// testAuditConcurrent appends from many goroutines: the chain must stay a
// single line (no two entries with the same predecessor).
func testAuditConcurrent(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				if _, err := db.AppendAudit(ctx, chainStub(veil.AuditEntry{Time: clk.Now(), ActorKind: "system", Action: "x"})); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	all, err := db.ListAudit(ctx, veil.AuditFilter{Limit: 1000})
	if err != nil || len(all) != 40 {
		t.Fatalf("entries = %d, %v", len(all), err)
	}
	for i, e := range all {
		if e.Seq != int64(i+1) || (i > 0 && e.PrevHash != all[i-1].Hash) {
			t.Fatalf("entry %d broken: %+v", i, e)
		}
	}
}

func testOrgSSO(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	a := MustCreateOrg(t, db, "a")
	_, err := db.FindOrgSSO(ctx, a.ID)
	wantCode(t, err, veil.ENOTFOUND)
	s := &veil.OrgSSO{OrgID: a.ID, Issuer: "https://idp.example", ClientID: "veil", SealedSecret: []byte("sealed"),
		AllowedDomains: []string{"example.com"}, DefaultRole: veil.RoleViewer, Enabled: true}
	if err := db.PutOrgSSO(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.ClientID = "veil2"
	if err := db.PutOrgSSO(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindOrgSSO(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	wantCode(t, db.PutOrgSSO(ctx, &veil.OrgSSO{OrgID: "org_nope", Issuer: "i", ClientID: "c", DefaultRole: veil.RoleViewer}), veil.ENOTFOUND)
}

func testInstanceKey(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, _ := MustOpen(t, open)
	calls := 0
	mk := func() ([]byte, error) { calls++; return []byte(fmt.Sprintf("w%d", calls)), nil }
	a, err := db.InstanceKey(ctx, "accounts", mk)
	if err != nil || string(a) != "w1" {
		t.Fatalf("first = %q, %v", a, err)
	}
	if b, err := db.InstanceKey(ctx, "accounts", mk); err != nil || string(b) != "w1" || calls != 1 {
		t.Fatalf("second = %q, %v (calls %d)", b, err, calls)
	}
	n, err := db.RewrapInstanceKeys(ctx, func(name string, w []byte) ([]byte, error) { return append(w, '!'), nil })
	if err != nil || n != 1 {
		t.Fatalf("rewrap = %d, %v", n, err)
	}
	if b, _ := db.InstanceKey(ctx, "accounts", mk); string(b) != "w1!" {
		t.Fatalf("after rewrap = %q", b)
	}
}

func testWebAuthn(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db, clk := MustOpen(t, open)
	alice, bob := MustCreateUser(t, db, "alice@example.com"), MustCreateUser(t, db, "bob@example.com")
	c := &veil.WebAuthnCredential{UserID: alice.ID, CredentialID: "cred1", Name: "YubiKey", Data: []byte(`{"a":1}`)}
	wantCode(t, db.CreateWebAuthnCredential(ctx, c), "")
	wantCode(t, db.CreateWebAuthnCredential(ctx, &veil.WebAuthnCredential{UserID: bob.ID, CredentialID: "cred1", Name: "x", Data: []byte("{}")}), veil.ECONFLICT)
	wantCode(t, db.CreateWebAuthnCredential(ctx, &veil.WebAuthnCredential{UserID: bob.ID, CredentialID: "cred2", Name: "", Data: []byte("{}")}), veil.EINVALID)
	clk.Advance(time.Second)
	wantCode(t, db.UpdateWebAuthnCredential(ctx, bob.ID, c.ID, []byte("{}"), clk.Now()), veil.ENOTFOUND)
	wantCode(t, db.UpdateWebAuthnCredential(ctx, alice.ID, c.ID, []byte(`{"a":2}`), clk.Now()), "")
	list, err := db.ListWebAuthnCredentials(ctx, alice.ID)
	if err != nil || len(list) != 1 || string(list[0].Data) != `{"a":2}` || list[0].LastUsedAt == nil || list[0].Name != "YubiKey" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if l, _ := db.ListWebAuthnCredentials(ctx, bob.ID); len(l) != 0 {
		t.Fatal("bob sees alice's key")
	}
	wantCode(t, db.DeleteWebAuthnCredential(ctx, bob.ID, c.ID), veil.ENOTFOUND)
	wantCode(t, db.DeleteWebAuthnCredential(ctx, alice.ID, c.ID), "")
}
