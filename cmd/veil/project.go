package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/veil-privacy/veil/internal/config"
)

func runProject(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil project", []command{
		{"create", "create a project with a browser key and a server key", runProjectCreate},
		{"list", "list projects", runProjectList},
		{"rules", "show or set a project's scrubbing rules", runProjectRules},
		{"sdk", "show or set the masking defaults a project pushes to the browser SDK", runProjectSDK},
	}, args)
}

func runProjectCreate(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "create", "veil project create --name NAME [--org ORG] [--origin URL]... [--json] [storage flags]")
	cfg.BindStorage(fs)
	name := fs.String("name", "", "project name (required; unique within the organisation)")
	org := fs.String("org", "default", "organisation name; created if it does not exist")
	var origins stringList
	fs.Var(&origins, "origin", "allowed origin for the browser key, e.g. https://app.example.com or https://*.example.com (repeatable)")
	asJSON := fs.Bool("json", false, `print {"org_id","project_id","browser_key","server_key"} as JSON`)
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *name == "" {
		return usagef("project create: --name is required")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{})
	if err != nil {
		return err
	}
	defer st.Close()
	np, err := st.provisioner().CreateProject(ctx, *org, *name, origins)
	if err != nil {
		return fmt.Errorf("create project: %w", userErr(err))
	}
	if len(origins) == 0 {
		fmt.Fprintln(c.stderr, "veil: note: the browser key has no allowed origin yet, so browsers are refused; add one with `veil key create --kind browser --origin URL`")
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(np)
	}
	fmt.Fprintf(c.stdout, "organisation: %s\nproject:      %s\nbrowser key:  %s\nserver key:   %s   (shown only now; store it as a secret)\n",
		np.OrgID, np.ProjectID, np.BrowserKey, np.ServerKey)
	return nil
}

func runProjectList(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "list", "veil project list [--json] [storage flags]")
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
	projects, err := st.db.ListProjects(ctx, "")
	if err != nil {
		return err
	}
	if *asJSON {
		if projects == nil {
			return json.NewEncoder(c.stdout).Encode([]any{})
		}
		return json.NewEncoder(c.stdout).Encode(projects)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROJECT ID\tORG ID\tNAME\tCREATED")
	for _, p := range projects {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.ID, p.OrgID, p.Name, p.CreatedAt.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}
