package destination

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/veil-privacy/veil/internal/store"
)

// Update edits a destination in place (PATCH semantics): a nil field
// keeps the stored value. Secrets are write-only: an empty secret keeps
// the stored one, so rotating only the S3 key pair or only the SFTP
// password leaves everything else as it is.
type Update struct {
	Name *string `json:"name,omitempty"`
	// Kind and Mode may be given but must equal the destination's: they
	// cannot change (see errKindMode).
	Kind string      `json:"kind,omitempty"`
	Mode string      `json:"mode,omitempty"`
	S3   *S3Update   `json:"s3,omitempty"`
	SFTP *SFTPUpdate `json:"sftp,omitempty"`
	// Secrets replace the stored secrets they set. A new access key id
	// needs its secret access key, and drops a stored session token
	// unless a new one is given (a token belongs to its key pair).
	Secrets Secrets `json:"secrets"`
	// RemoveSecrets drops stored optional secrets: "session_token",
	// "password" or "private_key" (an SFTP destination switching from a
	// key to a password, say). One credential must remain.
	RemoveSecrets []string `json:"remove_secrets,omitempty"`
	// AgeRecipient "" stops encrypting; nil keeps the recipient.
	AgeRecipient *string `json:"age_recipient,omitempty"`
	// Verify runs Test's probe with the new settings first and saves
	// nothing if it fails.
	Verify bool `json:"verify,omitempty"`
}

// S3Update changes S3 settings; nil fields keep theirs.
type S3Update struct {
	Bucket    *string `json:"bucket,omitempty"`
	Prefix    *string `json:"prefix,omitempty"`
	Region    *string `json:"region,omitempty"`
	Endpoint  *string `json:"endpoint,omitempty"`
	PathStyle *bool   `json:"path_style,omitempty"`
	SSE       *string `json:"sse,omitempty"`
	KMSKeyID  *string `json:"kms_key_id,omitempty"`
}

// SFTPUpdate changes SFTP settings; nil fields keep theirs.
type SFTPUpdate struct {
	Host    *string `json:"host,omitempty"`
	Port    *int    `json:"port,omitempty"`
	User    *string `json:"user,omitempty"`
	Dir     *string `json:"dir,omitempty"`
	HostKey *string `json:"host_key,omitempty"`
}

// Updated is what Update did: the destination as now stored, the names
// (never values) of what changed, and the verify probe's result.
type Updated struct {
	*View
	Changed []string    `json:"changed"`
	Test    *TestResult `json:"test,omitempty"`
}

// errKindMode refuses a kind or mode change. Kind: the settings, secrets
// and object layout of S3 and SFTP have nothing in common. Mode: it
// decides what Veil keeps. A copy destination turned do_not_store would
// make Veil delete recordings the admin agreed to keep when it was added,
// and the reverse would leave sessions already deleted under do_not_store
// looking like kept ones. Both are a new destination, made deliberately.
func errKindMode(what, have string) error {
	return invalid("The %s of a destination cannot be changed (this one is %s): add a new destination with the %s you want, then remove this one.",
		what, have, what)
}

// optionalSecrets are the secrets RemoveSecrets may drop.
var optionalSecrets = []string{"session_token", "password", "private_key"}

// apply merges u into the stored destination d (settings c, secrets sec)
// and returns the Input to validate and the names of the changed fields.
// It is pure, so the fuzz target exercises it without a store.
func (u *Update) apply(d *store.Destination, c *config, sec Secrets) (Input, []string, error) {
	switch {
	case u.Kind != "" && u.Kind != d.Kind:
		return Input{}, nil, errKindMode("kind", d.Kind)
	case u.Mode != "" && u.Mode != d.Mode:
		return Input{}, nil, errKindMode("mode", d.Mode)
	case u.S3 != nil && d.Kind != KindS3, u.SFTP != nil && d.Kind != KindSFTP:
		return Input{}, nil, invalid("This is an %s destination: only its %s settings can be changed.", d.Kind, d.Kind)
	}
	in := Input{Name: d.Name, Kind: d.Kind, Mode: d.Mode, AgeRecipient: d.AgeRecipient, Secrets: sec}
	if u.Name != nil {
		in.Name = *u.Name
	}
	if u.AgeRecipient != nil {
		in.AgeRecipient = strings.TrimSpace(*u.AgeRecipient)
	}
	if c.S3 != nil {
		s := *c.S3
		if p := u.S3; p != nil {
			set(&s.Bucket, p.Bucket)
			set(&s.Prefix, p.Prefix)
			set(&s.Region, p.Region)
			set(&s.Endpoint, p.Endpoint)
			set(&s.PathStyle, p.PathStyle)
			set(&s.SSE, p.SSE)
			set(&s.KMSKeyID, p.KMSKeyID)
		}
		in.S3 = &s
	}
	if c.SFTP != nil {
		s := *c.SFTP
		if p := u.SFTP; p != nil {
			set(&s.Host, p.Host)
			set(&s.Port, p.Port)
			set(&s.User, p.User)
			set(&s.Dir, p.Dir)
			set(&s.HostKey, p.HostKey)
		}
		in.SFTP = &s
	}
	if err := u.mergeSecrets(&in.Secrets); err != nil {
		return Input{}, nil, err
	}
	if err := in.validate(); err != nil {
		return Input{}, nil, err
	}
	var changed []string
	if in.Name != d.Name {
		changed = append(changed, "name")
	}
	changed = append(changed, diffFields(d.Kind, config{S3: c.S3, SFTP: c.SFTP}, config{S3: in.S3, SFTP: in.SFTP})...)
	changed = append(changed, diffFields("secrets", sec, in.Secrets)...)
	if in.AgeRecipient != d.AgeRecipient {
		changed = append(changed, "age_recipient")
	}
	return in, changed, nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (u *Update) mergeSecrets(s *Secrets) error {
	n := u.Secrets
	if n.AccessKeyID != "" {
		if n.SecretAccessKey == "" {
			return invalid("A new access key id needs its secret access key.")
		}
		s.AccessKeyID, s.SessionToken = strings.TrimSpace(n.AccessKeyID), ""
	}
	for _, f := range []struct{ dst, v *string }{{&s.SecretAccessKey, &n.SecretAccessKey},
		{&s.SessionToken, &n.SessionToken}, {&s.Password, &n.Password}, {&s.PrivateKey, &n.PrivateKey}} {
		if *f.v != "" {
			*f.dst = *f.v
		}
	}
	for _, r := range u.RemoveSecrets {
		var dst *string
		var given string
		switch r {
		case "session_token":
			dst, given = &s.SessionToken, n.SessionToken
		case "password":
			dst, given = &s.Password, n.Password
		case "private_key":
			dst, given = &s.PrivateKey, n.PrivateKey
		default:
			return invalid("remove_secrets takes %s.", strings.Join(optionalSecrets, ", "))
		}
		if given != "" {
			return invalid("Secret %s is both given and removed.", r)
		}
		*dst = ""
	}
	return nil
}

// diffFields names the top-level JSON fields (prefix.field, nested
// objects flattened one level) whose values differ between a and b.
// Only names leave this function, so it is safe on secrets.
func diffFields(prefix string, a, b any) []string {
	flat := func(v any) map[string]string {
		raw, _ := json.Marshal(v)
		var m map[string]json.RawMessage
		json.Unmarshal(raw, &m)
		out := map[string]string{}
		for k, v := range m {
			var inner map[string]json.RawMessage
			if json.Unmarshal(v, &inner) == nil && len(v) > 0 && v[0] == '{' {
				for ik, iv := range inner {
					out[ik] = string(iv)
				}
				continue
			}
			out[k] = string(v)
		}
		return out
	}
	fa, fb := flat(a), flat(b)
	var names []string
	for k, v := range fb {
		if fa[k] != v {
			names = append(names, prefix+"."+k)
		}
	}
	for k := range fa {
		if _, ok := fb[k]; !ok {
			names = append(names, prefix+"."+k)
		}
	}
	slices.Sort(names)
	return names
}

// Update edits the project's destination id in place with the same
// validation and host checks as Create; its secrets are sealed again.
// Pushes already done keep the location they were pushed to; pending and
// retrying pushes use the new settings from their next attempt, which is
// made due at once. With u.Verify the probe runs on the new settings first
// and a failure saves nothing (EINVALID with the probe's error). Nothing
// changed: nothing is written and Changed is empty.
func (s *Service) Update(ctx context.Context, projectID, id string, u Update) (*Updated, error) {
	d, err := s.Store.FindDestination(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	c, err := decodeConfig(d.Config)
	if err != nil {
		return nil, err
	}
	p, err := s.project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	sec, err := openSecrets(p, d)
	if err != nil {
		return nil, err
	}
	in, changed, err := u.apply(d, c, sec)
	if err != nil {
		return nil, err
	}
	if err := s.checkHosts(&in); err != nil {
		return nil, err
	}
	if len(changed) == 0 {
		v, err := s.view(ctx, d)
		if err != nil {
			return nil, err
		}
		return &Updated{View: v, Changed: []string{}}, nil
	}
	next := *d
	next.Name, next.AgeRecipient = in.Name, in.AgeRecipient
	if next.Config, err = encodeConfig(&in); err != nil {
		return nil, err
	}
	plain, err := json.Marshal(in.Secrets)
	if err != nil {
		return nil, fmt.Errorf("encode secrets: %w", err)
	}
	if next.SealedSecret, err = p.dek.Seal(plain, secretAAD(p, d.ID)); err != nil {
		return nil, fmt.Errorf("seal destination secrets: %w", err)
	}
	out := &Updated{Changed: changed}
	if u.Verify {
		res, err := s.probe(ctx, &next)
		if err != nil {
			return nil, invalid("Not saved: the test with the new settings failed: %v", err)
		}
		out.Test = res
	}
	// A rename alone leaves the retry schedule alone.
	retry := slices.ContainsFunc(changed, func(f string) bool { return f != "name" })
	saved, err := s.Store.UpdateDestination(ctx, projectID, id, store.DestinationUpdate{Name: next.Name, Config: next.Config,
		SealedSecret: next.SealedSecret, AgeRecipient: next.AgeRecipient, Prev: d, RetryNow: retry})
	if err != nil {
		return nil, err
	}
	if out.View, err = s.view(ctx, saved); err != nil {
		return nil, err
	}
	s.log().Info("destination updated", "destination_id", id, "project_id", projectID,
		"changed", strings.Join(changed, ","), "verified", u.Verify)
	return out, nil
}
