package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/auth"
	"github.com/veil-privacy/veil/internal/config"
)

func runToken(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil token", []command{
		{"create", "create a management API token (veil_pat_…), shown once", runTokenCreate},
		{"list", "list an organisation's API tokens", runTokenList},
		{"revoke", "revoke an API token at once", runTokenRevoke},
	}, args)
}

// parseExpiry reads --expires: a duration from now (720h) or an RFC 3339 time.
func parseExpiry(s string, now time.Time) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		t := now.Add(d)
		return &t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	return nil, usagef("token create: --expires must be a duration such as 720h or an RFC 3339 time, got %q", s)
}

func runTokenCreate(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "create", "veil token create --org ORG --role R [--expires 720h|RFC3339] [--name N] [--json] [storage flags]")
	cfg.BindStorage(fs)
	org := fs.String("org", "", "organisation id or name (required)")
	role := fs.String("role", "", "the token's role: owner, admin, member or viewer (required)")
	expires := fs.String("expires", "", "expiry: a duration from now (e.g. 720h) or an RFC 3339 time; default never")
	name := fs.String("name", "cli", "a label for the token")
	asJSON := fs.Bool("json", false, `print {"token_id","token","org_id","role","expires_at"} as JSON`)
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *org == "" || *role == "" {
		return usagef("token create: --org and --role are required")
	}
	if !veil.Role(*role).Valid() {
		return usagef("token create: --role must be owner, admin, member or viewer, got %q", *role)
	}
	exp, err := parseExpiry(*expires, time.Now())
	if err != nil {
		return err
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{noMaster: true})
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := findOrg(ctx, st, *org)
	if err != nil {
		return err
	}
	secret, tok, err := (&auth.Tokens{Store: st.db}).Create(ctx, o.ID, "", *name, veil.Role(*role), exp)
	if err != nil {
		return fmt.Errorf("create token: %w", userErr(err))
	}
	if _, err := (&audit.Log{Store: st.db}).Record(ctx, audit.Entry{OrgID: o.ID, Action: audit.ActionTokenCreate, ObjectKind: "token",
		ObjectID: tok.ID, Actor: cliActor, Details: map[string]string{"role": *role}}); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]any{"token_id": tok.ID, "token": secret, "org_id": o.ID, "role": tok.Role, "expires_at": tok.ExpiresAt})
	}
	fmt.Fprintf(c.stdout, "token id: %s\ntoken:    %s\nThis token is shown only now; use it as `Authorization: Bearer <token>` on /api/v1/.\n", tok.ID, secret)
	return nil
}

func runTokenList(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "list", "veil token list --org ORG [--json] [storage flags]")
	cfg.BindStorage(fs)
	org := fs.String("org", "", "organisation id or name (required)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *org == "" {
		return usagef("token list: --org is required")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{noMaster: true})
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := findOrg(ctx, st, *org)
	if err != nil {
		return err
	}
	ts, err := st.db.ListAPITokens(ctx, o.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		if ts == nil {
			ts = []*veil.APIToken{}
		}
		return json.NewEncoder(c.stdout).Encode(ts)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOKEN ID\tNAME\tROLE\tPREFIX\tCREATED\tEXPIRES\tLAST USED\tSTATE")
	for _, t := range ts {
		state := "active"
		if !t.Usable(time.Now()) {
			state = "revoked/expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\tveil_pat_%s…\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.Prefix, t.CreatedAt.Format("2006-01-02"),
			fmtTime(t.ExpiresAt), fmtTime(t.LastUsedAt), state)
	}
	return tw.Flush()
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format("2006-01-02 15:04")
}

func runTokenRevoke(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "revoke", "veil token revoke --org ORG --token ID [storage flags]")
	cfg.BindStorage(fs)
	org := fs.String("org", "", "organisation id or name (required)")
	id := fs.String("token", "", "token id, tok_… (required)")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *org == "" || !strings.HasPrefix(*id, "tok_") {
		return usagef("token revoke: --org and --token tok_… are required")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{noMaster: true})
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := findOrg(ctx, st, *org)
	if err != nil {
		return err
	}
	if err := st.db.RevokeAPIToken(ctx, o.ID, *id, time.Now()); err != nil {
		return fmt.Errorf("revoke token: %w", userErr(err))
	}
	if _, err := (&audit.Log{Store: st.db}).Record(ctx, audit.Entry{OrgID: o.ID, Action: audit.ActionTokenRevoke, ObjectKind: "token", ObjectID: *id, Actor: cliActor}); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "token %s revoked\n", *id)
	return nil
}
