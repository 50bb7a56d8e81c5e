package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/lifecycle"
)

// runErase handles `veil erase --project P --user-id U`: a GDPR erasure
// request. It prints the erasure certificate (JSON, no personal data).
func runErase(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "erase", "veil erase --project ID --user-id U [storage flags]")
	cfg.BindStorage(fs)
	project := fs.String("project", "", "project id (required)")
	user := fs.String("user-id", "", "the user's id as sent in userId / anonymousId, or their e-mail (traits.email) (required)")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *project == "" || *user == "" {
		return usagef("erase: --project and --user-id are required")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	svc := lifecycleService(st, nil)
	cert, err := svc.Erase(cliCtx(ctx), *project, *user)
	if err != nil {
		return fmt.Errorf("erase: %w", userErr(err))
	}
	if cert.Compaction == lifecycle.CompactionPending {
		fmt.Fprintln(c.stderr, "veil: erased; the replay bytes are left for the server's hourly compaction (another node holds the lease, or it failed: see the log)")
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(cert)
}

// runExportUser handles `veil export user --project P --user-id U --out
// FILE`: a zip archive of everything stored about the user.
func runExportUser(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "user", "veil export user --project ID --user-id U --out FILE.zip [storage flags]")
	cfg.BindStorage(fs)
	project := fs.String("project", "", "project id (required)")
	user := fs.String("user-id", "", "the user's id, anonymous id or e-mail (required)")
	out := fs.String("out", "", "new zip file to write, mode 0600 (required)")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *project == "" || *user == "" || *out == "" || *out == "-" {
		return usagef("export user: --project, --user-id and --out FILE are required")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	w, done, err := exportOut(c, *out)
	if err != nil {
		return err
	}
	m, err := lifecycleService(st, nil).ExportUser(cliCtx(ctx), *project, *user, w)
	if cerr := done(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export user: %w", userErr(err))
	}
	fmt.Fprintf(c.stderr, "veil: exported %d event(s) and %d session(s) of %s to %s\n", m.Events, len(m.Sessions), m.Subject, *out)
	return nil
}
