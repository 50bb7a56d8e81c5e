package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/veil-privacy/veil/internal/config"
)

func runDelete(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil delete", []command{
		{"session", "crypto-shred one recording (its key first, then its index; bytes go at compaction)", runDeleteSession},
		{"compact", "rewrite pack objects without the bytes of deleted recordings", runCompact},
		{"ledger", "print the deletion ledger as JSON lines (keep it with backups; see backup restore --ledger)", runDeleteLedger},
	}, args)
}

func runDeleteSession(ctx context.Context, c *cli, args []string) error {
	sid, args := positional(args)
	cfg := config.Default()
	fs := newFlags(c, "session", "veil delete session SID --project ID [--compact] [--json] [storage flags]")
	cfg.BindStorage(fs)
	project := fs.String("project", "", "project id (required)")
	compact := fs.Bool("compact", false, "also run compaction now, so the sealed bytes leave storage at once")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if sid == "" || *project == "" {
		return usagef("delete session: give the session id and --project")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	svc := lifecycleService(st, nil)
	res, err := svc.DeleteSession(cliCtx(ctx), *project, sid)
	if err != nil {
		return fmt.Errorf("delete session: %w", userErr(err))
	}
	out := map[string]any{"deleted": res}
	if *compact {
		cr, err := svc.Compact(ctx, cliHolder(), 0)
		if err != nil {
			return fmt.Errorf("session deleted, but compaction failed (the background job will retry): %w", err)
		}
		out["compaction"] = cr
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(out)
	}
	fmt.Fprintf(c.stdout, "deleted session %s: key destroyed, %d segment(s) unindexed (%d sealed bytes left for compaction)\n",
		sid, res.Segments, res.Bytes)
	return nil
}

func runCompact(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "compact", "veil delete compact [--json] [storage flags]")
	cfg.BindStorage(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	cr, err := lifecycleService(st, nil).Compact(ctx, cliHolder(), 0)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(cr)
	}
	fmt.Fprintf(c.stdout, "compaction: %d pack(s) rewritten, %d deleted, %d byte(s) reclaimed\n", cr.Rewritten, cr.Deleted, cr.Reclaimed)
	return nil
}

func runDeleteLedger(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "ledger", "veil delete ledger [--since T] [storage flags]")
	cfg.BindStorage(fs)
	sinceS := fs.String("since", "", "only deletions at or after this time (RFC 3339 or date)")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	since, err := parseTimeFlag("since", *sinceS)
	if err != nil {
		return err
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{})
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.db.ListDeletedSessions(ctx, since)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(c.stdout)
	for _, d := range list {
		if err := enc.Encode(d); err != nil {
			return err
		}
	}
	return nil
}
