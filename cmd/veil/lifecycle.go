package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/store"
)

// lifecycleService wires the lifecycle service to opened storage.
func lifecycleService(st *storage, reg prometheus.Registerer) *lifecycle.Service {
	s := &lifecycle.Service{Store: st.db, Blobs: st.blobs, Master: st.master,
		Audit: &audit.Log{Store: st.db, Logger: st.log.With("component", "audit")}, Logger: st.log.With("component", "lifecycle")}
	if reg != nil {
		s.Metrics = lifecycle.NewMetrics(reg)
	}
	return s
}

// startLifecycle runs the retention and compaction jobs in the background
// until ctx ends. Every node runs them; leases make one node at a time do
// the work.
func startLifecycle(ctx context.Context, st *storage, reg prometheus.Registerer, log *slog.Logger) {
	host, _ := os.Hostname()
	job := &lifecycle.Job{Service: lifecycleService(st, reg), Holder: host + "/" + time.Now().Format(time.RFC3339Nano), Interval: time.Hour}
	go func() {
		if err := job.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("lifecycle jobs stopped", "err", err)
		}
	}()
}

// cliCtx marks what a command does in the audit log as done by the CLI.
func cliCtx(ctx context.Context) context.Context { return audit.WithActor(ctx, *cliActor) }

// positional takes a leading positional argument (veil delete session SID
// --project P) off args.
func positional(args []string) (string, []string) {
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		return args[0], args[1:]
	}
	return "", args
}

func runRetention(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil retention", []command{
		{"set", "set replay and event retention of a project (or an org default)", runRetentionSet},
		{"show", "show the retention in force and what it would delete now", runRetentionShow},
		{"run", "run the retention job (and compaction) once now", runRetentionRun},
	}, args)
}

// parseDays reads a --*-days value: "" unchanged, "inherit" clears, else a
// whole number of days (0 keeps forever).
func parseDays(name, v string, cur *int) (*int, error) {
	switch v {
	case "":
		return cur, nil
	case "inherit":
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return nil, usagef("--%s %q: want a number of days (0 keeps forever) or \"inherit\"", name, v)
	}
	return &n, nil
}

func runRetentionSet(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "set", "veil retention set (--project ID | --org ID) [--replays-days N] [--events-days N] [--dry-run] [--json] [storage flags]")
	cfg.BindStorage(fs)
	project := fs.String("project", "", "project id")
	org := fs.String("org", "", "org id: set the org default instead of one project's")
	replays := fs.String("replays-days", "", "days to keep replays (0 = forever, \"inherit\" = org default)")
	evs := fs.String("events-days", "", "days to keep events (0 = forever, \"inherit\" = org default)")
	dry := fs.Bool("dry-run", false, "store nothing; show what the new setting would delete now")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if (*project == "") == (*org == "") {
		return usagef("retention set: give exactly one of --project and --org")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	svc := lifecycleService(st, nil)
	r := &store.Retention{OrgID: *org, ProjectID: *project}
	if *project != "" {
		p, err := st.db.FindProjectByID(ctx, *project)
		if err != nil {
			return fmt.Errorf("retention set: %w", userErr(err))
		}
		r.OrgID = p.OrgID
	}
	if cur, err := st.db.FindRetention(ctx, r.OrgID, r.ProjectID); err == nil {
		r.ReplayDays, r.EventDays = cur.ReplayDays, cur.EventDays
	}
	if r.ReplayDays, err = parseDays("replays-days", *replays, r.ReplayDays); err != nil {
		return err
	}
	if r.EventDays, err = parseDays("events-days", *evs, r.EventDays); err != nil {
		return err
	}
	if *dry {
		if *project == "" {
			return usagef("retention set: --dry-run needs --project")
		}
		pol, err := svc.Policy(ctx, *project)
		if err != nil {
			return err
		}
		if r.ReplayDays != nil {
			pol.ReplayDays, pol.ReplayFrom = *r.ReplayDays, "project"
		}
		if r.EventDays != nil {
			pol.EventDays, pol.EventFrom = *r.EventDays, "project"
		}
		pv, err := svc.PreviewPolicy(ctx, pol)
		if err != nil {
			return err
		}
		return printPreview(c, pv, *asJSON, "dry run, nothing stored: ")
	}
	if err := svc.SetRetention(cliCtx(ctx), r); err != nil {
		return fmt.Errorf("retention set: %w", userErr(err))
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(r)
	}
	fmt.Fprintf(c.stdout, "retention stored: replays %s day(s), events %s day(s) (0 = forever)\n", daysOr(r.ReplayDays), daysOr(r.EventDays))
	return nil
}

func daysOr(d *int) string {
	if d == nil {
		return "inherited"
	}
	return strconv.Itoa(*d)
}

func printPreview(c *cli, pv *lifecycle.Preview, asJSON bool, prefix string) error {
	if asJSON {
		return json.NewEncoder(c.stdout).Encode(pv)
	}
	p := pv.Policy
	fmt.Fprintf(c.stdout, "%sproject %s: replays kept %d day(s) (%s), events kept %d day(s) (%s); 0 = forever\n",
		prefix, p.ProjectID, p.ReplayDays, p.ReplayFrom, p.EventDays, p.EventFrom)
	fmt.Fprintf(c.stdout, "would delete now: %d session(s) (%d sealed bytes), %d event batch(es) with %d event(s) (%d bytes)\n",
		pv.Sessions, pv.ReplayBytes, pv.EventBatches, pv.Events, pv.EventBytes)
	return nil
}

func runRetentionShow(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "show", "veil retention show --project ID [--json] [storage flags]")
	cfg.BindStorage(fs)
	project := fs.String("project", "", "project id (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *project == "" {
		return usagef("retention show: --project is required")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	pv, err := lifecycleService(st, nil).Preview(ctx, *project)
	if err != nil {
		return fmt.Errorf("retention show: %w", userErr(err))
	}
	return printPreview(c, pv, *asJSON, "")
}

func runRetentionRun(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "run", "veil retention run [--json] [storage flags]")
	cfg.BindStorage(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	svc := lifecycleService(st, nil)
	r, err := svc.RunRetention(ctx, cliHolder(), 0)
	if err != nil {
		return fmt.Errorf("retention run: %w", err)
	}
	cr, err := svc.Compact(ctx, cliHolder(), 0)
	if err != nil {
		return fmt.Errorf("retention done, compaction failed: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]any{"retention": r, "compaction": cr})
	}
	fmt.Fprintf(c.stdout, "retention: %d session(s), %d event batch(es) (%d events) deleted; compaction reclaimed %d byte(s)\n",
		r.Sessions, r.EventBatches, r.Events, cr.Reclaimed)
	return nil
}

// cliHolder names this command's process as a lease holder, so two
// commands (or a command and a server) never share a lease.
func cliHolder() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("cli/%s/%d", host, os.Getpid())
}
