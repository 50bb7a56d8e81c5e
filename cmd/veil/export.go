package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/webhook"
)

func runExport(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil export", []command{
		{"events", "write a project's stored events as JSON lines (decrypted)", runExportEvents},
		{"replay", "write one session's rrweb events as a JSON array (decrypted)", runExportReplay},
		{"user", "write everything stored about one user as a zip archive (GDPR)", runExportUser},
	}, args)
}

// exportOut opens --out (or stdout) for writing; files are created 0600
// because they hold decrypted data.
func exportOut(c *cli, path string) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		bw := bufio.NewWriterSize(c.stdout, 1<<16)
		return bw, bw.Flush, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("create %s: %w (it must not exist yet)", path, err)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	return bw, func() error {
		if err := bw.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}

func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--%s %q: want RFC 3339 (2026-01-02T15:04:05Z) or a date (2026-01-02)", name, v)
}

func runExportEvents(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "events", "veil export events --project ID [--since T] [--until T] [--out FILE] [storage flags]")
	cfg.BindStorage(fs)
	project := fs.String("project", "", "project id (required)")
	sinceS := fs.String("since", "", "only batches with events at or after this time (RFC 3339 or date)")
	untilS := fs.String("until", "", "only batches with events before this time")
	out := fs.String("out", "", "write to this new file (mode 0600) instead of stdout")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *project == "" {
		return usagef("export events: --project is required")
	}
	since, err := parseTimeFlag("since", *sinceS)
	if err != nil {
		return err
	}
	until, err := parseTimeFlag("until", *untilS)
	if err != nil {
		return err
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	// Exporting decrypted data is recorded before anything is written.
	if err := auditExport(ctx, st, *project, "events", *project); err != nil {
		return err
	}
	w, done, err := exportOut(c, *out)
	if err != nil {
		return err
	}
	cw := &webhook.CountingWriter{W: w}
	n, err := ingest.NewReader(st.db, st.blobs, st.master).Events(ctx, *project, since, until, cw)
	if cerr := done(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export events: %w", userErr(err))
	}
	fmt.Fprintf(c.stderr, "veil: exported %d event(s)\n", n)
	return emitExportCompleted(ctx, st, webhook.ExportData{ProjectID: *project, Kind: "events", Format: "ndjson",
		Events: int64(n), Bytes: cw.N})
}

func runExportReplay(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "replay", "veil export replay --session SID [--project ID] [--out FILE] [storage flags]")
	cfg.BindStorage(fs)
	session := fs.String("session", "", "session id (required)")
	project := fs.String("project", "", "project id (default: search every project)")
	out := fs.String("out", "", "write to this new file (mode 0600) instead of stdout")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *session == "" {
		return usagef("export replay: --session is required")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := pushedStub(ctx, st, *project, *session); err != nil {
		return fmt.Errorf("export replay: %w", err)
	}
	pid := *project
	if pid == "" {
		projects, err := st.db.ListProjects(ctx, "")
		if err != nil {
			return err
		}
		for _, p := range projects {
			if _, err := st.db.FindSession(ctx, p.ID, *session); err == nil {
				pid = p.ID
				break
			}
		}
		if pid == "" {
			return fmt.Errorf("export replay: session %s not found in any project", *session)
		}
	}
	if err := auditExport(ctx, st, pid, "session", *session); err != nil {
		return err
	}
	w, done, err := exportOut(c, *out)
	if err != nil {
		return err
	}
	cw := &webhook.CountingWriter{W: w}
	n, err := ingest.NewReader(st.db, st.blobs, st.master).Replay(ctx, pid, *session, cw)
	if cerr := done(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export replay: %w", userErr(err))
	}
	fmt.Fprintf(c.stderr, "veil: exported %d segment(s)\n", n)
	return emitExportCompleted(ctx, st, webhook.ExportData{ProjectID: pid, Kind: "replay", Format: "json",
		Sessions: 1, Segments: int64(n), Bytes: cw.N})
}

// auditExport records an export of recorded data by the CLI in the audit
// log; the export does not run if that fails.
func auditExport(ctx context.Context, st *storage, projectID, kind, id string) error {
	p, err := st.db.FindProjectByID(ctx, projectID)
	if err != nil {
		return fmt.Errorf("export: %w", userErr(err))
	}
	_, err = (&audit.Log{Store: st.db}).Record(ctx, audit.Entry{
		OrgID: p.OrgID, Action: audit.ActionDataExport, ObjectKind: kind, ObjectID: id,
		Details: map[string]string{"project": p.ID, "via": "cli"},
		Actor:   &audit.Actor{Kind: audit.ActorSystem, ID: "cli"},
	})
	if err != nil {
		return fmt.Errorf("record the export in the audit log: %w", err)
	}
	return nil
}
