package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/veil-privacy/veil"
)

// PutOrgSSO creates or replaces the org's single sign-on set-up.
func (db *DB) PutOrgSSO(ctx context.Context, s *veil.OrgSSO) error {
	s.Issuer, s.ClientID = strings.TrimSpace(s.Issuer), strings.TrimSpace(s.ClientID)
	switch {
	case s.OrgID == "":
		return invalidf("Organisation required.")
	case s.Issuer == "" || s.ClientID == "":
		return invalidf("Issuer and client id required.")
	case !s.DefaultRole.Valid():
		return invalidf("Unknown role %q.", s.DefaultRole)
	}
	domains := s.AllowedDomains
	if domains == nil {
		domains = []string{}
	}
	js, err := json.Marshal(domains)
	if err != nil {
		return fmt.Errorf("encode domains: %w", err)
	}
	s.UpdatedAt = db.now()
	_, err = db.exec(ctx, db.w, `INSERT INTO org_sso
		(org_id, issuer, client_id, sealed_secret, allowed_domains, default_role, enabled, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id,
		sealed_secret = excluded.sealed_secret, allowed_domains = excluded.allowed_domains,
		default_role = excluded.default_role, enabled = excluded.enabled, updated_at = excluded.updated_at`,
		s.OrgID, s.Issuer, s.ClientID, nonNil(s.SealedSecret), string(js), string(s.DefaultRole), s.Enabled, db.ts(s.UpdatedAt))
	return mapErr(err, "put org sso", "", "Organisation not found.")
}

// FindOrgSSO returns the org's single sign-on set-up.
func (db *DB) FindOrgSSO(ctx context.Context, orgID string) (*veil.OrgSSO, error) {
	var (
		s       veil.OrgSSO
		domains string
		role    string
	)
	err := db.queryRow(ctx, db.sql, `SELECT org_id, issuer, client_id, sealed_secret, allowed_domains, default_role, enabled, updated_at
		FROM org_sso WHERE org_id = ?`, orgID).
		Scan(&s.OrgID, &s.Issuer, &s.ClientID, &s.SealedSecret, &domains, &role, &s.Enabled, timeCol{&s.UpdatedAt})
	if _, err := one(&s, err, "find org sso", "Single sign-on is not set up."); err != nil {
		return nil, err
	}
	s.DefaultRole = veil.Role(role)
	if err := json.Unmarshal([]byte(domains), &s.AllowedDomains); err != nil {
		return nil, fmt.Errorf("decode allowed domains: %w", err)
	}
	return &s, nil
}
