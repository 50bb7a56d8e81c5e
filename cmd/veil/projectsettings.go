package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/settings"
)

// maxSettingsFile bounds a rules or settings file.
const maxSettingsFile = 1 << 20

// runProjectRules handles `veil project rules get|set`: a project's
// scrubbing rules (docs/scrubbing.md).
func runProjectRules(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil project rules", []command{
		{"get", "print a project's stored scrubbing rules as JSON", func(ctx context.Context, c *cli, args []string) error {
			return projectSettingGet(ctx, c, args, "rules")
		}},
		{"set", "validate and store a project's scrubbing rules from a JSON file", func(ctx context.Context, c *cli, args []string) error {
			return projectSettingSet(ctx, c, args, "rules")
		}},
	}, args)
}

// runProjectSDK handles `veil project sdk get|set`: the masking defaults
// the browser SDK fetches (docs/sdk.md).
func runProjectSDK(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil project sdk", []command{
		{"get", "print a project's SDK masking defaults as JSON", func(ctx context.Context, c *cli, args []string) error {
			return projectSettingGet(ctx, c, args, "sdk")
		}},
		{"set", "validate and store a project's SDK masking defaults from a JSON file", func(ctx context.Context, c *cli, args []string) error {
			return projectSettingSet(ctx, c, args, "sdk")
		}},
	}, args)
}

func openProjectSettings(ctx context.Context, c *cli, cfg *config.Config, id string) (*storage, *veil.Project, error) {
	if id == "" {
		return nil, nil, usagef("--project is required")
	}
	st, err := openStorage(ctx, cfg, cfg.Logger(c.stderr), openOpts{noMaster: true})
	if err != nil {
		return nil, nil, err
	}
	p, err := st.db.FindProjectByID(ctx, id)
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("project %s: %w", id, userErr(err))
	}
	return st, p, nil
}

func projectSettingGet(ctx context.Context, c *cli, args []string, what string) error {
	cfg := config.Default()
	fs := newFlags(c, "get", "veil project "+what+" get --project ID [storage flags]")
	cfg.BindStorage(fs)
	id := fs.String("project", "", "project id (required)")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	st, p, err := openProjectSettings(ctx, c, &cfg, *id)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := settings.New(st.db).Get(ctx, p.ID)
	if err != nil {
		return err
	}
	var v any = s.Rules
	if what == "sdk" {
		v = s.SDK
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func projectSettingSet(ctx context.Context, c *cli, args []string, what string) error {
	cfg := config.Default()
	fs := newFlags(c, "set", "veil project "+what+" set --project ID --file FILE|- [storage flags]\n\n"+
		"Validates the JSON (an error names the wrong entry), stores it, and records the change in the audit log.\n"+
		"A running server applies it within seconds (at once on the node that saved it through the dashboard or API).")
	cfg.BindStorage(fs)
	id := fs.String("project", "", "project id (required)")
	file := fs.String("file", "", "JSON file to read, or - for stdin (required)")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *file == "" {
		return usagef("--file is required")
	}
	var r io.Reader = c.stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("read %s: %w", *file, err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxSettingsFile+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", *file, err)
	}
	if len(b) > maxSettingsFile {
		return fmt.Errorf("%s is larger than %d bytes", *file, maxSettingsFile)
	}
	st, p, err := openProjectSettings(ctx, c, &cfg, *id)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := settings.New(st.db)
	actx := audit.NewContext(cliCtx(ctx), &audit.Log{Store: st.db, Logger: st.log.With("component", "audit")})
	var ver int64
	if what == "sdk" {
		v, perr := veil.ParseSDKSettings(b)
		if perr != nil {
			return userErr(perr)
		}
		ver, err = svc.PutSDK(actx, p, v)
	} else {
		rules, perr := settings.ParseRules(b)
		if perr != nil {
			return userErr(perr)
		}
		ver, err = svc.PutScrubRules(actx, p, rules)
	}
	if err != nil {
		return userErr(err)
	}
	fmt.Fprintf(c.stdout, "project %s: %s saved (settings version %d)\n", p.ID, map[string]string{"rules": "scrubbing rules", "sdk": "SDK masking defaults"}[what], ver)
	return nil
}

// projectSettings returns the process's one settings service, so a change
// saved by the dashboard or the API reaches ingest's scrubber cache at once.
func (s *storage) projectSettings() *settings.Service {
	if s.settings == nil {
		s.settings = settings.New(s.db)
	}
	return s.settings
}
