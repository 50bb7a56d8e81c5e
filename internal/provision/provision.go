// Package provision creates organisations, projects and write keys, the
// steps shared by the CLI (`veil project create`, `veil key create`), the
// demo set-up and, later, the management API.
package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/writekey"
)

// Store is the part of the metadata store provisioning needs.
type Store interface {
	CreateOrg(ctx context.Context, o *veil.Org) error
	FindOrgByName(ctx context.Context, name string) (*veil.Org, error)
	CreateProject(ctx context.Context, p *veil.Project) error
	FindProjectByID(ctx context.Context, id string) (*veil.Project, error)
	CreateKey(ctx context.Context, k *veil.WriteKey) error
	ListKeys(ctx context.Context, projectID string) ([]*veil.WriteKey, error)
	RevokeKey(ctx context.Context, projectID, keyID string, at time.Time) error
}

// Service provisions tenants. Master wraps each new project's data key.
type Service struct {
	Store  Store
	Master *keyring.Master
	Now    func() time.Time
}

// ProjectKeyAAD binds a project's wrapped data key to its org and project.
func ProjectKeyAAD(orgID, projectID string) keyring.AAD {
	return keyring.AAD{Org: orgID, Project: projectID, Kind: "project-key", ID: projectID}
}

// NewProject is what CreateProject returns: ids and the two new keys. The
// server key is shown only this once.
type NewProject struct {
	OrgID      string `json:"org_id"`
	ProjectID  string `json:"project_id"`
	BrowserKey string `json:"browser_key"`
	ServerKey  string `json:"server_key"`
}

// CreateProject creates project name in the org named orgName (creating the
// org if needed), with a new data key, a browser key for origins and a
// server key.
func (s *Service) CreateProject(ctx context.Context, orgName, name string, origins []string) (*NewProject, error) {
	orgName, name = strings.TrimSpace(orgName), strings.TrimSpace(name)
	if err := validName("Project", name); err != nil {
		return nil, err
	}
	if err := validName("Organisation", orgName); err != nil {
		return nil, err
	}
	norm, err := normalizeOrigins(origins)
	if err != nil {
		return nil, err
	}
	org, err := s.findOrCreateOrg(ctx, orgName)
	if err != nil {
		return nil, err
	}
	p := &veil.Project{ID: veil.NewID("prj"), OrgID: org.ID, Name: name}
	p.WrappedKey, err = s.Master.Wrap(keyring.NewDataKey(), ProjectKeyAAD(org.ID, p.ID))
	if err != nil {
		return nil, fmt.Errorf("wrap project key: %w", err)
	}
	if err := s.Store.CreateProject(ctx, p); err != nil {
		return nil, err
	}
	out := &NewProject{OrgID: org.ID, ProjectID: p.ID}
	if _, out.BrowserKey, err = s.createKey(ctx, p.ID, veil.KeyBrowser, norm); err != nil {
		return nil, err
	}
	if _, out.ServerKey, err = s.createKey(ctx, p.ID, veil.KeyServer, nil); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) findOrCreateOrg(ctx context.Context, name string) (*veil.Org, error) {
	org, err := s.Store.FindOrgByName(ctx, name)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		org = &veil.Org{Name: name}
		err = s.Store.CreateOrg(ctx, org)
		if veil.ErrorCode(err) == veil.ECONFLICT { // created concurrently
			return s.Store.FindOrgByName(ctx, name)
		}
	}
	return org, err
}

// CreateKey adds a write key to a project and returns it with its secret,
// which is not stored and cannot be shown again.
func (s *Service) CreateKey(ctx context.Context, projectID string, kind veil.KeyKind, origins []string) (*veil.WriteKey, string, error) {
	if !kind.Valid() {
		return nil, "", veil.Errorf(veil.EINVALID, "Key kind must be browser or server, got %q.", kind)
	}
	if kind == veil.KeyServer && len(origins) > 0 {
		return nil, "", veil.Errorf(veil.EINVALID, "Server keys take no origins; they are for back-end senders.")
	}
	norm, err := normalizeOrigins(origins)
	if err != nil {
		return nil, "", err
	}
	if _, err := s.Store.FindProjectByID(ctx, projectID); err != nil {
		return nil, "", err
	}
	return s.createKey(ctx, projectID, kind, norm)
}

func (s *Service) createKey(ctx context.Context, projectID string, kind veil.KeyKind, origins []string) (*veil.WriteKey, string, error) {
	secret, prefix, hash, err := writekey.Generate(kind)
	if err != nil {
		return nil, "", err
	}
	k := &veil.WriteKey{ProjectID: projectID, Kind: kind, Prefix: prefix, Hash: hash, Origins: origins}
	if err := s.Store.CreateKey(ctx, k); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// RevokeKey revokes a project's key at once.
func (s *Service) RevokeKey(ctx context.Context, projectID, keyID string) error {
	return s.Store.RevokeKey(ctx, projectID, keyID, s.now())
}

// MaxRotationOverlap bounds how long a rotated key keeps working.
const MaxRotationOverlap = 30 * 24 * time.Hour

// RotateKey creates a successor of a project's key (same kind and origins)
// and schedules the old key's revocation after overlap, so deployed
// clients can move to the new key without losing data.
func (s *Service) RotateKey(ctx context.Context, projectID string, old *veil.WriteKey, overlap time.Duration) (*veil.WriteKey, string, error) {
	if overlap < 0 || overlap > MaxRotationOverlap {
		return nil, "", veil.Errorf(veil.EINVALID, "Rotation overlap must be between 0 and %s.", MaxRotationOverlap)
	}
	if old.RevokedAsOf(s.now()) {
		return nil, "", veil.Errorf(veil.ECONFLICT, "The key is revoked; create a new one instead.")
	}
	k, secret, err := s.createKey(ctx, projectID, old.Kind, old.Origins)
	if err != nil {
		return nil, "", err
	}
	if err := s.Store.RevokeKey(ctx, projectID, old.ID, s.now().Add(overlap)); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func normalizeOrigins(in []string) ([]string, error) {
	var out []string
	var errs []error
	for _, o := range in {
		n, err := writekey.NormalizeOrigin(o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, n)
	}
	if len(errs) > 0 {
		return nil, veil.Errorf(veil.EINVALID, "%s", errors.Join(errs...).Error())
	}
	return out, nil
}

func validName(what, name string) error {
	switch {
	case name == "":
		return veil.Errorf(veil.EINVALID, "%s name is required.", what)
	case len(name) > 100:
		return veil.Errorf(veil.EINVALID, "%s name is longer than 100 characters.", what)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return veil.Errorf(veil.EINVALID, "%s name contains control characters.", what)
	}
	return nil
}
