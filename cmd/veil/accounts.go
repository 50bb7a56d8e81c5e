package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/api"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/server"
	"github.com/veil-privacy/veil/internal/web"
)

// accountsKeyName is the instance key that seals TOTP secrets and SSO
// client secrets. It is wrapped by the master key like project keys.
const accountsKeyName = "accounts"

func instanceKeyAAD(name string) keyring.AAD {
	return keyring.AAD{Kind: "instance-key", ID: name}
}

// accountsKey returns the instance's accounts data key, creating it on
// first use.
func accountsKey(ctx context.Context, st *storage) (*keyring.DataKey, error) {
	aad := instanceKeyAAD(accountsKeyName)
	wrapped, err := st.db.InstanceKey(ctx, accountsKeyName, func() ([]byte, error) {
		return st.master.Wrap(keyring.NewDataKey(), aad)
	})
	if err != nil {
		return nil, fmt.Errorf("accounts key: %w", err)
	}
	dk, err := st.master.Unwrap(wrapped, aad)
	if err != nil {
		return nil, fmt.Errorf("master key %s cannot open the accounts key: %w (if `veil key rotate-master` was interrupted, run it again)", st.master.ID(), err)
	}
	return dk, nil
}

// rewrapInstanceKeys moves the instance keys from old to next (master key
// rotation). Keys already wrapped by next are left alone, so an
// interrupted rotation can simply be run again.
func rewrapInstanceKeys(ctx context.Context, st *storage, old, next *keyring.Master) error {
	_, err := st.db.RewrapInstanceKeys(ctx, func(name string, w []byte) ([]byte, error) {
		if id, _, err := keyring.WrappedBy(w); err == nil && id == next.ID() {
			return w, nil
		}
		return keyring.Rewrap(old, next, w, instanceKeyAAD(name))
	})
	return err
}

// accountServices are the accounts services shared by the server and the
// admin commands.
type accountServices struct {
	audit    *audit.Log
	sessions *auth.Sessions
	login    *auth.Login
	mfa      *auth.MFA
	tokens   *auth.Tokens
	key      *keyring.DataKey
}

func newAccountServices(ctx context.Context, st *storage) (*accountServices, error) {
	key, err := accountsKey(ctx, st)
	if err != nil {
		return nil, err
	}
	return &accountServices{
		audit:    &audit.Log{Store: st.db, Logger: st.log.With("component", "audit")},
		sessions: &auth.Sessions{Store: st.db},
		login:    &auth.Login{Store: st.db},
		mfa:      &auth.MFA{Store: st.db, Key: key},
		tokens:   &auth.Tokens{Store: st.db},
		key:      key,
	}, nil
}

// mountAccounts mounts the dashboard (log-in, account, organisation pages)
// and the management API (/api/v1/) on srv.
func mountAccounts(ctx context.Context, srv *server.Server, st *storage, baseURL string) error {
	svc, err := newAccountServices(ctx, st)
	if err != nil {
		return err
	}
	origin := ""
	if u, err := url.Parse(baseURL); err == nil && u.Host != "" {
		origin = u.Scheme + "://" + u.Host
	}
	// Security keys need a domain name as relying party (never an IP
	// address, as the default 127.0.0.1 base URL is).
	passkeys, err := auth.NewPasskeys(st.db, svc.key, origin)
	if err != nil {
		st.log.Info("security keys (WebAuthn) are off: they need --base-url with a domain name", "base_url", baseURL)
		passkeys = nil
	}
	wh := web.New(web.Options{
		Passkeys:  passkeys,
		Store:     st.db,
		Replays:   ingest.NewReader(st.db, st.blobs, st.master),
		Master:    st.master,
		Keys:      webhookKeys(st), // as the API: revocation emits key.revoked
		Webhooks:  webhookService(st, svc.key),
		Lifecycle: lifecycleService(st, nil),
		// The same service as the API's: same checks, same guard.
		Destinations: destinationService(st, "web", 0, os.Getenv),
		Storage:      storageInfo(st.cfg),
		Settings:     st.projectSettings(),
		Sessions:     svc.sessions,
		Login:        svc.login,
		MFA:          svc.mfa,
		Audit:        svc.audit,
		SSO:          &auth.SSO{},
		Key:          svc.key,
		Secure:       srv.TLS() || strings.HasPrefix(baseURL, "https://"),
		Origin:       origin,
		Logger:       st.log.With("component", "web"),
	})
	for _, rt := range wh.Routes() {
		srv.Handle(rt.Pattern, wh)
	}
	ah := api.New(api.Options{
		Store:         st.db,
		Tokens:        svc.tokens,
		Keys:          webhookKeys(st), // revocation emits key.revoked
		Lifecycle:     lifecycleService(st, nil),
		Master:        st.master,
		ProjectKeyAAD: provision.ProjectKeyAAD,
		SecretKey:     svc.key,
		Audit:         svc.audit,
		Webhooks:      webhookService(st, svc.key),
		Settings:      st.projectSettings(),
		Destinations:  destinationService(st, "api", 0, os.Getenv),
		Logger:        st.log.With("component", "api"),
	})
	srv.Handle("/api/v1/", ah)
	go cleanAccounts(ctx, svc, st)
	return nil
}

// cleanAccounts deletes expired sessions and stale log-in counters hourly
// until ctx ends.
func cleanAccounts(ctx context.Context, svc *accountServices, st *storage) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if s, th, err := svc.sessions.Cleanup(ctx, st.db); err != nil && ctx.Err() == nil {
			st.log.Warn("accounts clean-up failed", "err", err)
		} else if s+th > 0 {
			st.log.Debug("accounts clean-up", "sessions", s, "throttles", th)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// cliActor is who the admin commands act as in the audit log.
var cliActor = &audit.Actor{Kind: audit.ActorSystem, ID: "cli"}

// findOrg resolves an organisation by id (org_…) or name.
func findOrg(ctx context.Context, st *storage, ref string) (*veil.Org, error) {
	if strings.HasPrefix(ref, "org_") {
		if o, err := st.db.FindOrgByID(ctx, ref); err == nil {
			return o, nil
		}
	}
	o, err := st.db.FindOrgByName(ctx, ref)
	if veil.ErrorCode(err) == veil.ENOTFOUND {
		return nil, fmt.Errorf("no organisation %q (see `veil org list`)", ref)
	}
	return o, err
}
