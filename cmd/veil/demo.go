package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/writekey"
)

const (
	demoOrg     = "Demo"
	demoProject = "demo"
	demoEmail   = "demo@veil.localhost"
	demoCreds   = "demo-credentials.json"
)

// demoInfo is what `serve --demo` prints and keeps in DATA/demo-credentials.json
// (mode 0600) so a restarted demo can print it again. `veil doctor` flags
// both the demo user and that file.
type demoInfo struct {
	OrgID           string `json:"org_id"`
	ProjectID       string `json:"project_id"`
	Email           string `json:"email"`
	Password        string `json:"password"`
	BrowserKey      string `json:"browser_key"`
	ServerKey       string `json:"server_key"`
	Origin          string `json:"origin"`
	CredentialsFile string `json:"-"`
}

// setupDemo creates the demo org, project, keys and owner user if missing.
func setupDemo(ctx context.Context, st *storage, origin string) (*demoInfo, error) {
	path := dataPath(st.cfg, demoCreds)
	if b, err := os.ReadFile(path); err == nil {
		var d demoInfo
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("read %s: %w (delete it and the demo org to start over)", path, err)
		}
		if _, err := st.db.FindProjectByID(ctx, d.ProjectID); err == nil {
			d.CredentialsFile = path
			if err := allowDemoOrigin(ctx, st, &d, origin); err != nil {
				return nil, err
			}
			return &d, nil
		}
		// The file outlived its data (e.g. a fresh database): make a new demo.
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if org, err := st.db.FindOrgByName(ctx, demoOrg); err == nil {
		return nil, fmt.Errorf("a %q organisation (%s) exists but %s is missing — delete the data directory to recreate the demo", demoOrg, org.ID, path)
	}
	np, err := st.provisioner().CreateProject(ctx, demoOrg, demoProject, []string{origin})
	if err != nil {
		return nil, err
	}
	d := &demoInfo{OrgID: np.OrgID, ProjectID: np.ProjectID, Email: demoEmail, Password: randomPassword(),
		BrowserKey: np.BrowserKey, ServerKey: np.ServerKey, Origin: origin, CredentialsFile: path}
	hash, err := auth.HashPassword(d.Password, auth.DefaultParams)
	if err != nil {
		return nil, err
	}
	u, err := st.db.FindUserByEmail(ctx, demoEmail)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		u = &veil.User{Email: demoEmail, PasswordHash: hash, IsDemo: true}
		err = st.db.CreateUser(ctx, u)
	}
	if err != nil {
		return nil, fmt.Errorf("create demo user: %w", err)
	}
	if err := st.db.CreateMembership(ctx, &veil.Membership{OrgID: np.OrgID, UserID: u.ID, Role: veil.RoleOwner}); err != nil {
		return nil, fmt.Errorf("create demo membership: %w", err)
	}
	b, _ := json.MarshalIndent(d, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return d, nil
}

func printDemo(w io.Writer, d *demoInfo, baseURL string) {
	fmt.Fprintf(w, `
  Veil demo is ready at %s
    demo page:    %s/sdk/demo?key=%s  (records itself)
    log in:       %s/login as %s / %s
    project:      %s (org %s)
    browser key:  %s  (allowed origin %s)
    server key:   %s
  These demo credentials are kept in %s (mode 0600).
  Never expose a demo instance: "veil doctor" flags it.

`, baseURL, baseURL, d.BrowserKey, baseURL, d.Email, d.Password, d.ProjectID, d.OrgID, d.BrowserKey, d.Origin, d.ServerKey, d.CredentialsFile)
}

// randomPassword returns 26 base32 characters (130 bits).
func randomPassword() string { return rand.Text() }

// allowDemoOrigin adds the server's current origin to the demo browser key
// when the demo restarts on another address, so its demo page keeps
// recording.
func allowDemoOrigin(ctx context.Context, st *storage, d *demoInfo, origin string) error {
	if d.Origin == origin {
		return nil
	}
	k, err := st.db.FindKeyByPrefix(ctx, writekey.Prefix(d.BrowserKey))
	if err != nil || k.ProjectID != d.ProjectID {
		return nil // key gone: nothing to update
	}
	norm, err := writekey.NormalizeOrigin(origin)
	if err != nil {
		return nil
	}
	for _, o := range k.Origins {
		if o == norm {
			return nil
		}
	}
	if err := st.db.UpdateKeyOrigins(ctx, d.ProjectID, k.ID, append(k.Origins, norm)); err != nil {
		return fmt.Errorf("allow %s for the demo key: %w", origin, err)
	}
	d.Origin = origin
	return nil
}
