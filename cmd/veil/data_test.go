package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/provision"
)

type newProject struct {
	OrgID      string `json:"org_id"`
	ProjectID  string `json:"project_id"`
	BrowserKey string `json:"browser_key"`
	ServerKey  string `json:"server_key"`
}

func TestProjectAndKeys(t *testing.T) {
	dir := t.TempDir()
	d := []string{"--data", dir}
	r := mustVeil(t, nil, append([]string{"project", "create", "--name", "shop", "--org", "acme", "--origin", "https://shop.example.com", "--json"}, d...)...)
	np := decode[newProject](t, r.stdout)
	if !strings.HasPrefix(np.OrgID, "org_") || !strings.HasPrefix(np.ProjectID, "prj_") ||
		!strings.HasPrefix(np.BrowserKey, "veil_wk_") || !strings.HasPrefix(np.ServerKey, "veil_sk_") {
		t.Fatalf("project create --json: %s", r.stdout)
	}
	// Same name in the same org is a conflict; in another org it is fine.
	dup := runVeil(t, nil, append([]string{"project", "create", "--name", "shop", "--org", "acme"}, d...)...)
	if dup.code != 1 || !strings.Contains(errLine(t, dup), "exists") && !strings.Contains(errLine(t, dup), "already") {
		t.Fatalf("duplicate project: exit %d %s", dup.code, dup.stderr)
	}
	other := decode[newProject](t, mustVeil(t, nil, append([]string{"project", "create", "--name", "shop", "--org", "globex", "--json"}, d...)...).stdout)

	r = mustVeil(t, nil, append([]string{"key", "create", "--project", np.ProjectID, "--kind", "browser", "--origin", "https://*.example.com", "--json"}, d...)...)
	nk := decode[map[string]string](t, r.stdout)
	if !strings.HasPrefix(nk["key"], "veil_wk_") || !strings.HasPrefix(nk["key_id"], "key_") {
		t.Fatalf("key create --json: %s", r.stdout)
	}
	keys := decode[[]*veil.WriteKey](t, mustVeil(t, nil, append([]string{"key", "list", "--project", np.ProjectID, "--json"}, d...)...).stdout)
	if len(keys) != 3 {
		t.Fatalf("want 3 keys, got %d", len(keys))
	}
	listing := mustVeil(t, nil, append([]string{"key", "list", "--project", np.ProjectID, "--json"}, d...)...).stdout
	if strings.Contains(listing, np.ServerKey) || strings.Contains(listing, np.ServerKey[8:]) {
		t.Fatal("key list shows a server key secret")
	}
	// Another tenant's key id answers not found, and changes nothing.
	wrong := runVeil(t, nil, append([]string{"key", "revoke", "--project", other.ProjectID, "--key", nk["key_id"]}, d...)...)
	if wrong.code != 1 || !strings.Contains(strings.ToLower(errLine(t, wrong)), "not found") {
		t.Fatalf("cross-project revoke: exit %d %s", wrong.code, wrong.stderr)
	}
	mustVeil(t, nil, append([]string{"key", "revoke", "--project", np.ProjectID, "--key", nk["key_id"]}, d...)...)
	keys = decode[[]*veil.WriteKey](t, mustVeil(t, nil, append([]string{"key", "list", "--project", np.ProjectID, "--json"}, d...)...).stdout)
	for _, k := range keys {
		if (k.ID == nk["key_id"]) != k.Revoked() {
			t.Fatalf("key %s revoked=%v", k.ID, k.Revoked())
		}
	}
	// Rotation keeps the old key working for the overlap.
	var serverKey *veil.WriteKey
	for _, k := range keys {
		if k.Kind == veil.KeyServer {
			serverKey = k
		}
	}
	rot := decode[map[string]string](t, mustVeil(t, nil, append([]string{"key", "rotate", "--project", np.ProjectID, "--key", serverKey.ID, "--overlap", "2h", "--json"}, d...)...).stdout)
	if !strings.HasPrefix(rot["key"], "veil_sk_") {
		t.Fatalf("rotate --json: %v", rot)
	}
	keys = decode[[]*veil.WriteKey](t, mustVeil(t, nil, append([]string{"key", "list", "--project", np.ProjectID, "--json"}, d...)...).stdout)
	for _, k := range keys {
		if k.ID == serverKey.ID && (k.RevokedAt == nil || k.RevokedAsOf(time.Now()) || !k.RevokedAsOf(time.Now().Add(3*time.Hour))) {
			t.Fatalf("rotated key revoked_at = %v, want about 2h from now", k.RevokedAt)
		}
	}
	// Bad origin and server-key origins are refused with a clear message.
	bad := runVeil(t, nil, append([]string{"key", "create", "--project", np.ProjectID, "--kind", "browser", "--origin", "example.com"}, d...)...)
	if bad.code != 1 || !strings.Contains(errLine(t, bad), "scheme://host") {
		t.Fatalf("bad origin: %d %s", bad.code, bad.stderr)
	}
	bad = runVeil(t, nil, append([]string{"key", "create", "--project", np.ProjectID, "--kind", "server", "--origin", "https://a.example"}, d...)...)
	if bad.code != 1 || !strings.Contains(errLine(t, bad), "Server keys take no origins") {
		t.Fatalf("server key origin: %d %s", bad.code, bad.stderr)
	}
	if r := mustVeil(t, nil, append([]string{"project", "list"}, d...)...); strings.Count(r.stdout, "shop") != 2 {
		t.Fatalf("project list:\n%s", r.stdout)
	}
}

// openTestStorage opens the data directory the way serve does.
func openTestStorage(t *testing.T, cfg config.Config) *storage {
	t.Helper()
	st, err := openStorage(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), openOpts{blobs: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// sealSession stores plaintext as a session object the way ingest will:
// a session key wrapped by the project key, the object sealed by the
// session key. It returns a function that reads it back.
func sealSession(t *testing.T, st *storage, projectID string, plaintext []byte) func(*storage) ([]byte, error) {
	t.Helper()
	ctx := context.Background()
	p, err := st.db.FindProjectByID(ctx, projectID)
	if err != nil {
		t.Fatal(err)
	}
	dek, err := st.master.Unwrap(p.WrappedKey, provision.ProjectKeyAAD(p.OrgID, p.ID))
	if err != nil {
		t.Fatal(err)
	}
	sid := veil.NewID("ses")
	sk := keyring.NewDataKey()
	wrapped, err := dek.WrapKey(sk, keyring.AAD{Org: p.OrgID, Project: p.ID, Kind: "session-key", ID: sid})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.db.CreateSession(ctx, &veil.Session{ID: sid, ProjectID: p.ID, WrappedKey: wrapped}); err != nil {
		t.Fatal(err)
	}
	aad := keyring.AAD{Org: p.OrgID, Project: p.ID, Kind: "segment", ID: sid + "/1"}
	sealed, err := sk.Seal(plaintext, aad)
	if err != nil {
		t.Fatal(err)
	}
	key := "p/" + p.ID + "/s/" + sid + "/000001.seg"
	if err := st.blobs.Put(ctx, key, sealed); err != nil {
		t.Fatal(err)
	}
	return func(st *storage) ([]byte, error) {
		p, err := st.db.FindProjectByID(ctx, projectID)
		if err != nil {
			return nil, err
		}
		dek, err := st.master.Unwrap(p.WrappedKey, provision.ProjectKeyAAD(p.OrgID, p.ID))
		if err != nil {
			return nil, err
		}
		s, err := st.db.FindSession(ctx, p.ID, sid)
		if err != nil {
			return nil, err
		}
		sk, err := dek.UnwrapKey(s.WrappedKey, keyring.AAD{Org: p.OrgID, Project: p.ID, Kind: "session-key", ID: sid})
		if err != nil {
			return nil, err
		}
		b, err := st.blobs.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		return sk.Open(b, aad)
	}
}

// TestNoPlaintextUnderDataDir checks the at-rest promise: after storing a
// sealed object, no file under the data directory (database, WAL, blobs)
// contains its plaintext or any fragment of it, nor a server key.
func TestNoPlaintextUnderDataDir(t *testing.T) {
	dir := t.TempDir()
	np := decode[newProject](t, mustVeil(t, nil, "project", "create", "--name", "p", "--data", dir, "--json").stdout)
	cfg := config.Default()
	cfg.Data = dir
	st := openTestStorage(t, cfg)
	marker := "VEIL-PLAINTEXT-MARKER-7f3a9c"
	plain := []byte(`[{"type":2,"data":{"node":{"type":0,"childNodes":[{"type":3,"textContent":"` + strings.Repeat(marker+" jane.doe@example.com ", 200) + `"}]}}}]`)
	read := sealSession(t, st, np.ProjectID, plain)
	if got, err := read(st); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("read back: %v", err)
	}
	st.Close()

	needles := [][]byte{[]byte(marker), []byte("jane.doe@example.com"), []byte(np.ServerKey), []byte(np.ServerKey[8:])}
	files := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s contains %q in clear", path, n[:min(len(n), 16)])
			}
		}
		return nil
	})
	if files < 3 {
		t.Fatalf("walked only %d files; the test is not looking at the data", files)
	}
}

func TestRotateMaster(t *testing.T) {
	t.Run("DefaultKeyFile", func(t *testing.T) {
		dir := t.TempDir()
		np := decode[newProject](t, mustVeil(t, nil, "project", "create", "--name", "p", "--data", dir, "--json").stdout)
		cfg := config.Default()
		cfg.Data = dir
		st := openTestStorage(t, cfg)
		read := sealSession(t, st, np.ProjectID, []byte("synthetic session bytes"))
		oldID := st.master.ID()
		st.Close()
		oldKey, _ := os.ReadFile(filepath.Join(dir, "master.key"))

		r := mustVeil(t, nil, "key", "rotate-master", "--data", dir)
		if !strings.Contains(r.stdout, "rotated 1 project key(s) from master key "+oldID) {
			t.Fatalf("rotate output: %s", r.stdout)
		}
		if _, err := os.Stat(filepath.Join(dir, "master.key.next")); err == nil {
			t.Fatal("master.key.next left behind")
		}
		st2 := openTestStorage(t, cfg) // loads the new master.key
		if st2.master.ID() == oldID {
			t.Fatal("master key unchanged")
		}
		if got, err := read(st2); err != nil || string(got) != "synthetic session bytes" {
			t.Fatalf("data unreadable after rotation: %v", err)
		}
		// The old key no longer opens the project keys.
		r2 := runVeil(t, map[string]string{"VEIL_MASTER_KEY": string(oldKey)}, "project", "list", "--data", dir)
		if r2.code != 1 || !strings.Contains(errLine(t, r2), "cannot open project") {
			t.Fatalf("old key still accepted: %d %s", r2.code, r2.stderr)
		}
	})
	t.Run("ExplicitFiles", func(t *testing.T) {
		dir, keys := t.TempDir(), t.TempDir()
		oldFile, newFile := filepath.Join(keys, "old.key"), filepath.Join(keys, "new.key")
		mustVeil(t, nil, "key", "generate-master", "--out", oldFile)
		np := decode[newProject](t, mustVeil(t, nil, "project", "create", "--name", "p", "--data", dir, "--master-key-file", oldFile, "--json").stdout)
		cfg := config.Default()
		cfg.Data, cfg.MasterKeyFile = dir, oldFile
		st := openTestStorage(t, cfg)
		read := sealSession(t, st, np.ProjectID, []byte("more synthetic bytes"))
		st.Close()

		if r := runVeil(t, nil, "key", "rotate-master", "--data", dir, "--master-key-file", oldFile); r.code != 2 {
			t.Fatalf("rotate without --new-key-file: exit %d", r.code)
		}
		mustVeil(t, nil, "key", "rotate-master", "--data", dir, "--master-key-file", oldFile, "--new-key-file", newFile)
		// Running it again with the same new key is harmless (resumable).
		cfg.MasterKeyFile = newFile
		st2 := openTestStorage(t, cfg)
		if got, err := read(st2); err != nil || string(got) != "more synthetic bytes" {
			t.Fatalf("data unreadable after rotation: %v", err)
		}
	})
}

// TestExportIsAudited: decrypting recorded data from the CLI leaves an
// audit entry, and the chain still verifies.
func TestExportIsAudited(t *testing.T) {
	dir := t.TempDir()
	np := decode[newProject](t, mustVeil(t, nil, "project", "create", "--name", "p", "--data", dir, "--json").stdout)
	mustVeil(t, nil, "export", "events", "--project", np.ProjectID, "--data", dir)
	r := mustVeil(t, nil, "audit", "export", "--data", dir, "--json")
	if !strings.Contains(r.stdout, `"data.export"`) || !strings.Contains(r.stdout, np.ProjectID) {
		t.Fatalf("audit export lacks the data export:\n%s", r.stdout)
	}
	mustVeil(t, nil, "audit", "verify", "--data", dir)
	if r := runVeil(t, nil, "export", "events", "--project", "prj_nope", "--data", dir); r.code != 1 {
		t.Fatalf("export of an unknown project: exit %d", r.code)
	}
}
