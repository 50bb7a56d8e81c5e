package veil

import "time"

// Account types: organisation settings, members, browser sessions, API
// tokens, MFA and the audit trail. Behaviour lives in internal/auth and
// internal/audit; storage in internal/store.

// OrgSettings are an organisation's account-wide settings.
type OrgSettings struct {
	// RequireMFA makes every member enrol a second factor before using the
	// dashboard; API tokens are not affected (they are already a second,
	// independent credential).
	RequireMFA bool `json:"require_mfa"`
	// RetentionDays is how long recorded data is kept (0 = default).
	RetentionDays int `json:"retention_days"`
}

// Member is a membership joined with the member's e-mail, as shown in
// member lists.
type Member struct {
	OrgID     string    `json:"org_id"`
	UserID    string    `json:"user_id"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// OrgMembership is one of a user's organisations with the user's role there.
type OrgMembership struct {
	Org  Org  `json:"org"`
	Role Role `json:"role"`
}

// WebSession is a logged-in browser session. Only a SHA-256 hash of the
// session token (the cookie value) is stored; ID is a separate public
// handle used to list and revoke sessions and is never a credential.
type WebSession struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	TokenHash  []byte    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	// ExpiresAt is the absolute expiry; the idle timeout is enforced from
	// LastSeenAt.
	ExpiresAt time.Time `json:"expires_at"`
	// MFAPending marks a session whose password step passed but whose second
	// factor has not been given yet: it grants nothing but the MFA page.
	MFAPending bool `json:"mfa_pending,omitempty"`
	// OrgID binds a session started by an organisation's single sign-on to
	// that organisation; "" (a password log-in) is valid for all of the
	// user's organisations.
	OrgID     string `json:"org_id,omitempty"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// APIToken is a credential for the management API (veil_pat_…), scoped to
// one organisation and one role. Only a hash of the secret is stored.
type APIToken struct {
	ID         string     `json:"id"`
	OrgID      string     `json:"org_id"`
	UserID     string     `json:"user_id,omitempty"` // who created it, "" from the CLI
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	Prefix     string     `json:"prefix"`
	Hash       []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Usable reports whether the token may authenticate at now.
func (t *APIToken) Usable(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// MFA is a user's second-factor state. Secret is the TOTP secret as stored
// (see internal/auth); LastStep is the last TOTP time step accepted, so a
// code cannot be used twice.
type MFA struct {
	UserID    string     `json:"user_id"`
	Secret    string     `json:"-"`
	Enabled   bool       `json:"enabled"`
	LastStep  int64      `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	EnabledAt *time.Time `json:"enabled_at,omitempty"`
}

// AuditEntry is one record of the append-only, hash-chained audit log.
// It says who did what to which object from where; it never holds recorded
// content or secrets. Seq, PrevHash and Hash are set by internal/audit.
type AuditEntry struct {
	Seq        int64             `json:"seq"`
	ID         string            `json:"id"`
	Time       time.Time         `json:"time"`
	OrgID      string            `json:"org_id,omitempty"`
	ActorKind  string            `json:"actor_kind"` // user, token, system, anonymous
	ActorID    string            `json:"actor_id,omitempty"`
	Action     string            `json:"action"` // e.g. login.success, member.role_change
	ObjectKind string            `json:"object_kind,omitempty"`
	ObjectID   string            `json:"object_id,omitempty"`
	IP         string            `json:"ip,omitempty"`
	Details    map[string]string `json:"details,omitempty"`
	PrevHash   string            `json:"prev_hash"`
	Hash       string            `json:"hash"`
}

// AuditFilter selects audit entries. Zero values mean "any".
type AuditFilter struct {
	OrgID    string
	AfterSeq int64 // entries with Seq > AfterSeq
	Limit    int   // <= 0 means the store's default page size
}

// LoginThrottle is the failure count of one throttling key (an account, an
// IP, or both) within its window, and the lock it earned.
type LoginThrottle struct {
	Key         string
	Failures    int
	WindowStart time.Time
	LockedUntil time.Time
}

// OrgSSO is an organisation's OpenID Connect single sign-on set-up.
type OrgSSO struct {
	OrgID    string `json:"org_id"`
	Issuer   string `json:"issuer"` // discovery: Issuer + /.well-known/openid-configuration
	ClientID string `json:"client_id"`
	// SealedSecret is the client secret sealed with the keyring; it is never
	// shown.
	SealedSecret   []byte    `json:"-"`
	AllowedDomains []string  `json:"allowed_domains"`
	DefaultRole    Role      `json:"default_role"`
	Enabled        bool      `json:"enabled"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// WebAuthnCredential is a security key or passkey registered as a second
// factor. Data is the credential record (public key, sign count, flags) as
// JSON; nothing in it is secret.
type WebAuthnCredential struct {
	ID           string     `json:"id"`
	UserID       string     `json:"user_id"`
	CredentialID string     `json:"-"` // base64url of the authenticator's credential id
	Name         string     `json:"name"`
	Data         []byte     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	LastUsedAt   *time.Time `json:"last_used_at,omitempty"`
}
