package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
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

// backupFlags are veil serve's scheduled-backup flags.
type backupFlags struct {
	every time.Duration
	to    string
	keep  int
}

func bindBackupFlags(fs *flag.FlagSet) *backupFlags {
	b := &backupFlags{}
	fs.DurationVar(&b.every, "backup-every", 0, "make a sealed backup this often (e.g. 24h; 0 = no scheduled backups); needs --backup-to")
	fs.StringVar(&b.to, "backup-to", "", "where scheduled backups go: a directory or s3://bucket/prefix?endpoint=URL&region=R (each backup in its own veil-backup-<time>/ prefix)")
	fs.IntVar(&b.keep, "backup-keep", 7, "keep the newest N complete Veil backups in --backup-to and delete older ones (0 = keep all)")
	return b
}

func (b *backupFlags) validate() error {
	switch {
	case b.every < 0:
		return usagef("--backup-every must not be negative")
	case b.every > 0 && b.every < time.Second:
		return usagef("--backup-every %s: at least 1s", b.every)
	case b.every > 0 && b.to == "":
		return usagef("--backup-every needs --backup-to DIR|s3://bucket/prefix")
	case b.every == 0 && b.to != "":
		return usagef("--backup-to needs --backup-every (e.g. 24h)")
	case b.keep < 0:
		return usagef("--backup-keep must not be negative")
	}
	return nil
}

// startLifecycle runs the retention and compaction jobs, and scheduled
// backups when bk asks for them, in the background until ctx ends. Every
// node runs them; leases make one node at a time do the work.
func startLifecycle(ctx context.Context, st *storage, reg prometheus.Registerer, log *slog.Logger, bk *backupFlags) error {
	host, _ := os.Hostname()
	holder := host + "/" + time.Now().Format(time.RFC3339Nano)
	svc := lifecycleService(st, reg)
	job := &lifecycle.Job{Service: svc, Holder: holder, Interval: time.Hour, RecompressAfter: st.cfg.RecompressAfter}
	var bj *lifecycle.BackupJob
	if bk != nil && bk.every > 0 {
		target, err := lifecycle.OpenBackupTarget(ctx, bk.to)
		if err != nil {
			return fmt.Errorf("--backup-to: %w", err)
		}
		if err := target.Ping(ctx); err != nil {
			return fmt.Errorf("--backup-to: %w", err)
		}
		dump, err := dbDumper(st)
		if err != nil {
			return err
		}
		bj = &lifecycle.BackupJob{Service: svc, Target: target, Dialect: st.db.Dialect(), Dump: dump,
			Every: bk.every, Keep: bk.keep, Holder: holder}
	}
	go func() {
		if err := job.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("lifecycle jobs stopped", "err", err)
		}
	}()
	if bj != nil {
		log.Info("scheduled backups on", "every", bk.every.String(), "keep", bk.keep)
		go func() {
			if err := bj.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("backup job stopped", "err", err)
			}
		}()
	}
	return nil
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
	if *dry && *project == "" {
		imp, err := svc.ProposeRetention(ctx, r)
		if err != nil {
			return fmt.Errorf("retention set: %w", userErr(err))
		}
		if *asJSON {
			return json.NewEncoder(c.stdout).Encode(imp)
		}
		for _, pv := range imp.Projects {
			if err := printPreview(c, pv, false, "dry run, nothing stored: "); err != nil {
				return err
			}
		}
		t := imp.Total
		fmt.Fprintf(c.stdout, "in total: %d session(s), %d event batch(es) with %d event(s) in %d project(s)\n", t.Sessions, t.EventBatches, t.Events, len(imp.Projects))
		return nil
	}
	if *dry {
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
