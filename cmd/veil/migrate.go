package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/store"
)

func runMigrate(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "migrate", "veil migrate [--data DIR | --database postgres://…] [--status] [--json]")
	cfg.BindStorage(fs)
	status := fs.Bool("status", false, "only list pending migrations; change nothing")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	log := cfg.Logger(c.stderr)
	if err := ensureDataDir(&cfg); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	var names []string
	verb := "applied"
	if *status {
		verb = "pending"
		names, err = db.Pending(ctx)
	} else {
		names, err = db.Migrate(ctx) // takes the migration lock
	}
	if err != nil {
		return fmt.Errorf("migrate %s database: %w", db.Dialect(), err)
	}
	if names == nil {
		names = []string{}
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]any{verb: names, "database": db.Dialect()})
	}
	if len(names) == 0 {
		fmt.Fprintf(c.stdout, "%s database schema is up to date\n", db.Dialect())
		return nil
	}
	for _, n := range names {
		fmt.Fprintf(c.stdout, "%s %s\n", verb, n)
	}
	log.Debug("migrate done", "count", len(names))
	return nil
}
