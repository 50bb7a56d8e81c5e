// Package audit is Veil's append-only, hash-chained audit log: who did
// what to which object, from where. It records log-ins, MFA changes,
// member and role changes, key and token creation and revocation, settings
// changes, deletions, and every view and export of recorded data.
//
// # Chain
//
// Entries are numbered 1, 2, 3, … (Seq) and each one's Hash commits to the
// previous entry's Hash (PrevHash; 64 zeros for the first entry):
//
//	Hash = hex(SHA-256(canonical(entry)))
//	canonical = "veil.audit.v1" || field(seq) || field(id) || field(time) || field(org_id)
//	            || field(actor_kind) || field(actor_id) || field(action) || field(object_kind)
//	            || field(object_id) || field(ip) || uvarint(len(details))
//	            || for each detail in key order: field(key) || field(value)
//	            || field(prev_hash)
//	field(s) = uvarint(len(s)) || s ; seq and time (unix microseconds, UTC)
//	           are written in decimal.
//
// Editing any stored field, deleting an entry in the middle, or reordering
// entries breaks the chain at the first affected entry, and Verify names it.
// Deleting entries at the end cannot be seen from the chain alone: keep the
// head hash Verify prints somewhere else (a ticket, a log shipper) to
// detect that too.
//
// Entries never hold recorded content or secrets: Record accepts ids and a
// few short details only, and callers must never put passwords, tokens,
// session cookies or replay content in them.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
)

// Actions recorded by Veil. Other packages may add their own; an action is
// lower-case words joined by dots or underscores.
const (
	ActionLoginSuccess    = "login.success"
	ActionLoginFailure    = "login.failure"
	ActionLoginLocked     = "login.locked"
	ActionLoginPassword   = "login.password_ok" // password right, second factor next
	ActionLogout          = "logout"
	ActionLogoutAll       = "logout.all"
	ActionSessionRevoke   = "session.revoke"
	ActionPasswordChange  = "password.change"
	ActionMFAEnable       = "mfa.enable"
	ActionMFADisable      = "mfa.disable"
	ActionMFAReset        = "mfa.reset"
	ActionMFARecoveryUsed = "mfa.recovery_code_used"
	ActionUserCreate      = "user.create"
	ActionMemberAdd       = "member.add"
	ActionMemberRole      = "member.role_change"
	ActionMemberRemove    = "member.remove"
	ActionOrgCreate       = "org.create"
	ActionOrgDelete       = "org.delete"
	ActionSettingsChange  = "settings.change"
	ActionSSOChange       = "sso.change"
	ActionProjectCreate   = "project.create"
	ActionProjectDelete   = "project.delete"
	ActionKeyCreate       = "key.create"
	ActionKeyRotate       = "key.rotate"
	ActionKeyRevoke       = "key.revoke"
	ActionKeyOrigins      = "key.origins_change"
	ActionTokenCreate     = "token.create"
	ActionTokenRevoke     = "token.revoke"
	ActionReplayView      = "replay.view"
	ActionDataExport      = "data.export"
	ActionAuditExport     = "audit.export"
)

// Actor kinds.
const (
	ActorUser      = "user"
	ActorToken     = "token"
	ActorSystem    = "system" // the CLI or a background job
	ActorAnonymous = "anonymous"
)

// Entry is what a caller records. Actor and IP default to the request's
// (see WithActor); set them to override.
type Entry struct {
	OrgID      string
	Action     string
	ObjectKind string
	ObjectID   string
	Details    map[string]string // short, non-secret facts: a role, a count, a reason
	Actor      *Actor            // nil: the context's actor
}

// Actor is who acts and from where.
type Actor struct {
	Kind string // ActorUser, ActorToken, ActorSystem, ActorAnonymous
	ID   string // user or token id
	IP   string
}

// Limits on what an entry may carry, so it cannot become a channel for
// recorded content.
const (
	maxDetails     = 16
	maxDetailBytes = 200
)

// Store is the storage the log needs (internal/store.DB implements it).
type Store interface {
	// AppendAudit reads the last entry and inserts build's result in one
	// transaction that excludes other appenders.
	AppendAudit(ctx context.Context, build func(prev *veil.AuditEntry) (*veil.AuditEntry, error)) (*veil.AuditEntry, error)
	// ListAudit returns entries in Seq order.
	ListAudit(ctx context.Context, f veil.AuditFilter) ([]*veil.AuditEntry, error)
}

// Log appends to and verifies the audit chain.
type Log struct {
	Store  Store
	Now    func() time.Time // nil: time.Now
	Logger *slog.Logger     // nil: slog.Default
}

// GenesisHash is the PrevHash of the first entry.
var GenesisHash = strings.Repeat("0", 64)

// Record appends e. The actor comes from e.Actor or else from ctx
// (WithActor); without either it is recorded as anonymous.
func (l *Log) Record(ctx context.Context, e Entry) (*veil.AuditEntry, error) {
	if err := validate(e); err != nil {
		return nil, err
	}
	a := e.Actor
	if a == nil {
		a = ActorFrom(ctx)
	}
	if a == nil {
		a = &Actor{Kind: ActorAnonymous}
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	entry := veil.AuditEntry{
		ID: veil.NewID("aud"), Time: now().UTC().Truncate(time.Microsecond),
		OrgID: e.OrgID, ActorKind: a.Kind, ActorID: a.ID, IP: a.IP,
		Action: e.Action, ObjectKind: e.ObjectKind, ObjectID: e.ObjectID, Details: e.Details,
	}
	out, err := l.Store.AppendAudit(ctx, func(prev *veil.AuditEntry) (*veil.AuditEntry, error) {
		entry.Seq, entry.PrevHash = 1, GenesisHash
		if prev != nil {
			entry.Seq, entry.PrevHash = prev.Seq+1, prev.Hash
		}
		entry.Hash = Hash(&entry)
		return &entry, nil
	})
	if err != nil {
		l.logger().ErrorContext(ctx, "audit append failed", "action", e.Action, "err", err)
		return nil, fmt.Errorf("record audit entry %s: %w", e.Action, err)
	}
	return out, nil
}

func (l *Log) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}

func validate(e Entry) error {
	if !validAction(e.Action) {
		return veil.Errorf(veil.EINVALID, "Audit action %q is not lower-case words joined by dots.", e.Action)
	}
	if len(e.Details) > maxDetails {
		return veil.Errorf(veil.EINVALID, "Audit entry has more than %d details.", maxDetails)
	}
	for k, v := range e.Details {
		if len(k) > 40 || len(v) > maxDetailBytes {
			return veil.Errorf(veil.EINVALID, "Audit detail %.40q is too long.", k)
		}
	}
	if len(e.OrgID) > 64 || len(e.ObjectKind) > 40 || len(e.ObjectID) > 200 {
		return veil.Errorf(veil.EINVALID, "Audit entry ids are too long.")
	}
	return nil
}

func validAction(a string) bool {
	if a == "" || len(a) > 64 {
		return false
	}
	for _, r := range a {
		if (r < 'a' || r > 'z') && r != '.' && r != '_' {
			return false
		}
	}
	return true
}

// Hash returns the hex SHA-256 of e's canonical encoding (see the package
// doc). It covers every field but Hash itself.
func Hash(e *veil.AuditEntry) string {
	b := []byte("veil.audit.v1")
	field := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	field(strconv.FormatInt(e.Seq, 10))
	field(e.ID)
	field(strconv.FormatInt(e.Time.UTC().UnixMicro(), 10))
	field(e.OrgID)
	field(e.ActorKind)
	field(e.ActorID)
	field(e.Action)
	field(e.ObjectKind)
	field(e.ObjectID)
	field(e.IP)
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		field(k)
		field(e.Details[k])
	}
	field(e.PrevHash)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Break describes the first entry where the chain is broken.
type Break struct {
	Seq    int64  `json:"seq"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Result is the outcome of Verify.
type Result struct {
	Entries int64  `json:"entries"`
	Head    string `json:"head"` // hash of the last entry (GenesisHash when empty)
	Broken  *Break `json:"broken,omitempty"`
}

// OK reports whether the chain is intact.
func (r *Result) OK() bool { return r.Broken == nil }

// Verify walks the whole chain and reports the first broken entry.
func (l *Log) Verify(ctx context.Context) (*Result, error) {
	res := &Result{Head: GenesisHash}
	var after int64
	for {
		page, err := l.Store.ListAudit(ctx, veil.AuditFilter{AfterSeq: after, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		for _, e := range page {
			want := res.Entries + 1
			switch {
			case e.Seq != want:
				res.Broken = &Break{e.Seq, e.ID, fmt.Sprintf("sequence jumps from %d to %d: entries were deleted or renumbered", want-1, e.Seq)}
			case e.PrevHash != res.Head:
				res.Broken = &Break{e.Seq, e.ID, fmt.Sprintf("does not follow entry %d: entries were deleted, inserted or reordered", want-1)}
			case Hash(e) != e.Hash:
				res.Broken = &Break{e.Seq, e.ID, "content does not match its hash: the entry was edited"}
			}
			if res.Broken != nil {
				return res, nil
			}
			res.Entries, res.Head = e.Seq, e.Hash
		}
		if len(page) < 1000 {
			return res, nil
		}
		after = page[len(page)-1].Seq
	}
}

// Each calls fn for every entry of the log in order (orgID "" = all orgs).
func (l *Log) Each(ctx context.Context, orgID string, fn func(e *veil.AuditEntry) error) error {
	var after int64
	for {
		page, err := l.Store.ListAudit(ctx, veil.AuditFilter{OrgID: orgID, AfterSeq: after, Limit: 1000})
		if err != nil {
			return fmt.Errorf("read audit log: %w", err)
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < 1000 {
			return nil
		}
		after = page[len(page)-1].Seq
	}
}

type ctxKey int

const (
	actorKey ctxKey = iota
	logKey
)

// WithActor returns ctx carrying who acts (set by the web and API
// middleware for each request).
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey, &a)
}

// ActorFrom returns the actor in ctx, or nil.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey).(*Actor)
	return a
}

// NewContext returns ctx carrying l, for Record.
func NewContext(ctx context.Context, l *Log) context.Context {
	return context.WithValue(ctx, logKey, l)
}

// ErrNoLog is returned by Record when ctx carries no audit log.
var ErrNoLog = errors.New("audit: no audit log in context")

// Record appends e to the audit log carried by ctx (every dashboard and API
// request carries one), with the request's actor and IP. It fails, and the
// caller must then refuse the action, when the entry cannot be stored:
// views and exports of recorded data must never go unrecorded.
//
//	if err := audit.Record(r.Context(), audit.Entry{OrgID: org, Action: audit.ActionReplayView,
//		ObjectKind: "session", ObjectID: sessionID}); err != nil {
//		return err
//	}
func Record(ctx context.Context, e Entry) error {
	l, _ := ctx.Value(logKey).(*Log)
	if l == nil {
		return ErrNoLog
	}
	_, err := l.Record(ctx, e)
	return err
}
