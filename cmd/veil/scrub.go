package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/scrub/scrubcli"
	"github.com/veil-privacy/veil/internal/settings"
)

// runScrub handles `veil scrub`: scrub stdin to stdout with the built-in
// rules, a rules file, or a project's stored rules (--project, with the
// storage flags); per-detector counts on stderr.
func runScrub(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	return scrubcli.RunWith(args, c.stdin, c.stdout, c.stderr, scrubcli.Options{
		Bind: cfg.BindStorage,
		Project: func(fs *flag.FlagSet, id string) (scrub.Rules, error) {
			if err := cfg.ApplyEnv(fs, c.getenv); err != nil {
				return scrub.Rules{}, usagef("%v", err)
			}
			if err := cfg.ValidateStorage(); err != nil {
				return scrub.Rules{}, usagef("%v", err)
			}
			st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{noMaster: true})
			if err != nil {
				return scrub.Rules{}, err
			}
			defer st.Close()
			if _, err := st.db.FindProjectByID(ctx, id); err != nil {
				return scrub.Rules{}, fmt.Errorf("project %s: %w", id, userErr(err))
			}
			s, err := settings.New(st.db).Get(ctx, id)
			if err != nil {
				return scrub.Rules{}, err
			}
			format := "text"
			if f := fs.Lookup("format"); f != nil {
				format = f.Value.String()
			}
			return settings.EffectiveFor(s.Rules, format), nil
		},
	})
}
