package ingest_test

import (
	"context"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/writekey"
)

// TestKeyChangesApplyToNextRequest: write keys are kept in memory between
// requests, yet a key revoked or given new origins through this process's
// store (the dashboard, the API) is refused or checked anew on the very
// next request, and a key revoked by another process on the same
// database (`veil key revoke`) is refused once DefaultKeyTTL has passed.
// The clock stands still unless the test moves it.
func TestKeyChangesApplyToNextRequest(t *testing.T) {
	now := time.Now()
	e := newEnv(t, func(o *ingest.Options) { o.Now = func() time.Time { return now } })
	ctx := context.Background()
	body := `{"event":"E","userId":"u"}`
	track := func(key, origin string) int {
		t.Helper()
		return e.do(req{path: "/v1/track", body: body, key: key, origin: origin}).status
	}
	newKey := func(prov *provision.Service, kind veil.KeyKind, origins []string) (*veil.WriteKey, string) {
		t.Helper()
		k, secret, err := prov.CreateKey(ctx, e.project.ProjectID, kind, origins)
		if err != nil {
			t.Fatal(err)
		}
		return k, secret
	}

	prov := *e.prov // this process's store
	prov.Now = func() time.Time { return now }

	// Revoked in this process.
	k, secret := newKey(&prov, veil.KeyServer, nil)
	for range 3 {
		if s := track(secret, ""); s != 200 {
			t.Fatalf("live key: %d", s)
		}
	}
	if err := prov.RevokeKey(ctx, e.project.ProjectID, k.ID); err != nil {
		t.Fatal(err)
	}
	if s := track(secret, ""); s != 401 {
		t.Fatalf("request right after the revocation: %d, want 401", s)
	}

	// Origins changed in this process.
	bk, bsecret := newKey(&prov, veil.KeyBrowser, []string{"https://a.example.com"})
	if s := track(bsecret, "https://a.example.com"); s != 200 {
		t.Fatalf("allowed origin: %d", s)
	}
	if err := e.db.UpdateKeyOrigins(ctx, e.project.ProjectID, bk.ID, []string{"https://b.example.com"}); err != nil {
		t.Fatal(err)
	}
	if s := track(bsecret, "https://a.example.com"); s != 403 {
		t.Fatalf("origin removed: %d, want 403", s)
	}
	if s := track(bsecret, "https://b.example.com"); s != 200 {
		t.Fatalf("origin added: %d, want 200", s)
	}

	// Revoked by another process on the same SQLite file.
	other, err := store.Open(ctx, e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	oprov := &provision.Service{Store: other, Master: e.master, Now: func() time.Time { return now }}
	k2, secret2 := newKey(oprov, veil.KeyServer, nil)
	if s := track(secret2, ""); s != 200 {
		t.Fatalf("live key: %d", s)
	}
	if err := oprov.RevokeKey(ctx, e.project.ProjectID, k2.ID); err != nil {
		t.Fatal(err)
	}
	now = now.Add(ingest.DefaultKeyTTL)
	if s := track(secret2, ""); s != 401 {
		t.Fatalf("key revoked by another process, %v later: %d, want 401", ingest.DefaultKeyTTL, s)
	}
	if got, _ := e.db.FindKeyByPrefix(ctx, writekey.Prefix(secret2)); got == nil || !got.RevokedAsOf(now) {
		t.Fatalf("stored key %+v not revoked", got)
	}
}
