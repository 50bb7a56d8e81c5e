package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/config"
)

func runOrg(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil org", []command{
		{"create", "create an organisation", runOrgCreate},
		{"list", "list organisations", runOrgList},
	}, args)
}

func runOrgCreate(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "create", "veil org create --name NAME [--json] [storage flags]")
	cfg.BindStorage(fs)
	name := fs.String("name", "", "organisation name (required; unique)")
	asJSON := fs.Bool("json", false, `print {"org_id","name"} as JSON`)
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *name == "" {
		return usagef("org create: --name is required")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{})
	if err != nil {
		return err
	}
	defer st.Close()
	o := &veil.Org{Name: *name}
	if err := st.db.CreateOrg(ctx, o); err != nil {
		return fmt.Errorf("create organisation: %w", userErr(err))
	}
	if _, err := (&audit.Log{Store: st.db}).Record(ctx, audit.Entry{OrgID: o.ID, Action: audit.ActionOrgCreate, ObjectKind: "org", ObjectID: o.ID, Actor: cliActor}); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]string{"org_id": o.ID, "name": o.Name})
	}
	fmt.Fprintf(c.stdout, "organisation %s (%s) created; add people with `veil user create --org %s …`\n", o.Name, o.ID, o.ID)
	return nil
}

func runOrgList(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "list", "veil org list [--json] [storage flags]")
	cfg.BindStorage(fs)
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{})
	if err != nil {
		return err
	}
	defer st.Close()
	orgs, err := st.db.ListOrgs(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if orgs == nil {
			orgs = []*veil.Org{}
		}
		return json.NewEncoder(c.stdout).Encode(orgs)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORG ID\tNAME\tCREATED")
	for _, o := range orgs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", o.ID, o.Name, o.CreatedAt.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}
