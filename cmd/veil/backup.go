package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/store"
)

func runBackup(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil backup", []command{
		{"create", "write a sealed backup of the database and every blob object", runBackupCreate},
		{"verify", "restore a backup into a temporary directory and check everything opens", runBackupVerify},
		{"restore", "restore a backup into an empty data directory", runBackupRestore},
		{"list", "list the Veil backups in a directory or S3 prefix (scheduled backups), newest first", runBackupList},
	}, args)
}

func runBackupCreate(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "create", "veil backup create --to DIR|s3://bucket/prefix?endpoint=URL&region=R [--json] [storage flags]")
	cfg.BindStorage(fs)
	to := fs.String("to", "", "where to write the backup: a new (or empty) directory, or an empty S3 prefix (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) (required)")
	asJSON := fs.Bool("json", false, "print the manifest summary as JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *to == "" {
		return usagef("backup create: --to DIR or --to s3://bucket/prefix is required")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	dump, err := dbDumper(st)
	if err != nil {
		return err
	}
	dst, err := lifecycle.OpenBackupTarget(ctx, *to)
	if err != nil {
		return fmt.Errorf("backup create: %w", err)
	}
	m, err := lifecycleService(st, nil).CreateBackup(cliCtx(ctx), dst, st.db.Dialect(), dump)
	if err != nil {
		return fmt.Errorf("backup create %s: %w", *to, userErr(err))
	}
	var bytes int64
	for _, e := range m.Entries {
		bytes += e.Size
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]any{"id": m.ID, "files": len(m.Entries), "bytes": bytes, "to": *to})
	}
	fmt.Fprintf(c.stdout, "backup %s written to %s: %d file(s), %d byte(s) before sealing\n", m.ID, *to, len(m.Entries), bytes)
	return nil
}

// dbDumper returns how to write a consistent copy of the metadata store
// to a file: VACUUM INTO for SQLite, pg_dump for Postgres.
func dbDumper(st *storage) (func(ctx context.Context, path string) error, error) {
	if st.db.Dialect() != store.Postgres {
		return func(ctx context.Context, path string) error { return st.db.VacuumInto(ctx, path) }, nil
	}
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		return nil, errors.New("backup: Postgres backups need pg_dump in PATH (install the PostgreSQL client tools); nothing was written")
	}
	dsn := st.cfg.DatabaseDSN()
	return func(ctx context.Context, path string) error {
		out, err := exec.CommandContext(ctx, pgDump, "--format=custom", "--no-owner", "--file="+path, "--dbname="+dsn).CombinedOutput()
		if err != nil {
			return fmt.Errorf("pg_dump: %v: %s", err, oneLine(string(out)))
		}
		return nil
	}, nil
}

// openBackupArg opens BACKUP (a directory or s3:// prefix) for reading.
func openBackupArg(ctx context.Context, name, arg string) (blob.Bucket, error) {
	if !strings.Contains(arg, "://") {
		if fi, err := os.Stat(arg); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("backup %s: %s is not a backup directory", name, arg)
		}
	}
	src, err := lifecycle.OpenBackupTarget(ctx, arg)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", name, err)
	}
	return src, nil
}

// backupMaster loads the master key without opening any storage:
// VEIL_MASTER_KEY, --master-key-file, or DATA/master.key. It never
// generates one.
func backupMaster(cfg *config.Config) (*keyring.Master, error) {
	if cfg.MasterKey != "" {
		return keyring.ParseMaster([]byte(cfg.MasterKey))
	}
	path, _ := cfg.MasterKeyPath()
	m, _, err := keyring.LoadMasterFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("master key file %s does not exist — a backup opens only with the master key it was made with; pass --master-key-file or VEIL_MASTER_KEY", path)
	}
	return m, err
}

// positionalBackup takes BACKUP off the front of args.
func positionalBackup(name string, args []string) (string, []string, error) {
	dir, rest := positional(args)
	if dir == "" && len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		return "", args, nil // the flag set prints the usage
	}
	if dir == "" {
		return "", nil, usagef("backup %s: give the backup first (veil backup %s DIR|s3://bucket/prefix …)", name, name)
	}
	return dir, rest, nil
}

func runBackupVerify(ctx context.Context, c *cli, args []string) error {
	dir, args, err := positionalBackup("verify", args)
	if err != nil {
		return err
	}
	cfg := config.Default()
	fs := newFlags(c, "verify", "veil backup verify DIR|s3://bucket/prefix [--master-key-file F] [--json]")
	cfg.BindStorage(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	master, err := backupMaster(&cfg)
	if err != nil {
		return err
	}
	src, err := openBackupArg(ctx, "verify", dir)
	if err != nil {
		return err
	}
	b, err := lifecycle.OpenBackup(ctx, src, master)
	if err != nil {
		return fmt.Errorf("backup verify: %w", err)
	}
	tmp, err := os.MkdirTemp("", "veil-verify-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	report := map[string]any{"id": b.Header.ID, "files": len(b.Manifest.Entries)}
	var problems []lifecycle.Problem
	if b.Header.Dialect == store.SQLite {
		problems, err = restoreInto(ctx, b, tmp, "")
		if err != nil {
			return fmt.Errorf("backup verify: %w", err)
		}
		if !hasDBProblem(b, problems) {
			db, err := store.Open(ctx, filepath.Join(tmp, "veil.db"))
			if err != nil {
				return fmt.Errorf("backup verify: restored database does not open: %w", err)
			}
			defer db.Close()
			if _, err := db.Migrate(ctx); err != nil {
				return fmt.Errorf("backup verify: migrate restored database: %w", err)
			}
			bl, err := blob.Open(ctx, "", tmp)
			if err != nil {
				return err
			}
			svc := &lifecycle.Service{Store: db, Blobs: bl, Master: master}
			ns, nb, more, err := svc.CheckReadable(ctx)
			if err != nil {
				return fmt.Errorf("backup verify: %w", err)
			}
			problems = append(problems, more...)
			report["sessions_opened"], report["event_batches_opened"] = ns, nb
		}
	} else {
		// A pg_dump file cannot be opened here; check every file's seal and checksum.
		if problems, err = b.Restore(ctx, nil, nil); err != nil {
			return err
		}
		report["note"] = "Postgres backup: files checked; sessions and events are opened only by a restore"
	}
	report["problems"] = problems
	if *asJSON {
		json.NewEncoder(c.stdout).Encode(report)
	} else {
		fmt.Fprintf(c.stdout, "backup %s: %d file(s) checked", b.Header.ID, len(b.Manifest.Entries))
		if ns, ok := report["sessions_opened"]; ok {
			fmt.Fprintf(c.stdout, ", %v session(s) and %v event batch(es) opened", ns, report["event_batches_opened"])
		}
		fmt.Fprintln(c.stdout)
		for _, p := range problems {
			fmt.Fprintf(c.stdout, "PROBLEM %s: %s\n", p.Path, p.Err)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("backup verify: %d problem(s) found", len(problems))
	}
	return nil
}

func hasDBProblem(b *lifecycle.Backup, problems []lifecycle.Problem) bool {
	for _, p := range problems {
		if p.Path == "db.vbk" {
			return true
		}
	}
	return false
}

// restoreInto restores a SQLite backup's database to dataDir/veil.db and
// its blobs to blobsURL ("" = dataDir/blobs).
func restoreInto(ctx context.Context, b *lifecycle.Backup, dataDir, blobsURL string) ([]lifecycle.Problem, error) {
	dbPath := filepath.Join(dataDir, "veil.db")
	if _, err := os.Stat(dbPath); err == nil {
		return nil, fmt.Errorf("%s already exists: restore only into an empty data directory", dbPath)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	bl, err := blob.Open(ctx, blobsURL, dataDir)
	if err != nil {
		return nil, err
	}
	return b.Restore(ctx, func(data []byte) error {
		return os.WriteFile(dbPath, data, 0o600)
	}, bl)
}

func runBackupRestore(ctx context.Context, c *cli, args []string) error {
	dir, args, err := positionalBackup("restore", args)
	if err != nil {
		return err
	}
	cfg := config.Default()
	fs := newFlags(c, "restore", "veil backup restore DIR|s3://bucket/prefix --data DIR [--ledger FILE] [storage flags]")
	cfg.BindStorage(fs)
	ledger := fs.String("ledger", "", "JSON lines from `veil delete ledger` taken after the backup: re-delete those sessions after restoring")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	master, err := backupMaster(&cfg)
	if err != nil {
		return err
	}
	src, err := openBackupArg(ctx, "restore", dir)
	if err != nil {
		return err
	}
	b, err := lifecycle.OpenBackup(ctx, src, master)
	if err != nil {
		return fmt.Errorf("backup restore: %w", err)
	}
	var problems []lifecycle.Problem
	switch {
	case b.Header.Dialect == store.SQLite && cfg.Embedded():
		problems, err = restoreInto(ctx, b, cfg.Data, cfg.Blobs)
	case b.Header.Dialect == store.Postgres && !cfg.Embedded():
		problems, err = restorePostgres(ctx, b, &cfg)
	default:
		return fmt.Errorf("backup restore: this is a %s backup; restore it %s", b.Header.Dialect,
			map[bool]string{true: "with --data DIR (no --database)", false: "with --database postgres://… (an empty database)"}[b.Header.Dialect == store.SQLite])
	}
	if err != nil {
		return fmt.Errorf("backup restore: %w", err)
	}
	for _, p := range problems {
		fmt.Fprintf(c.stderr, "veil: PROBLEM %s: %s\n", p.Path, p.Err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("backup restore: %d file(s) could not be restored", len(problems))
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	svc := lifecycleService(st, nil)
	if err := svc.ReleaseBackupLeases(ctx, b); err != nil {
		return err
	}
	if _, err := svc.Audit.Record(cliCtx(ctx), audit.Entry{Action: lifecycle.ActionBackupRestore, ObjectKind: "backup", ObjectID: b.Header.ID}); err != nil {
		return err
	}
	redeleted := 0
	if *ledger != "" {
		if redeleted, err = reapplyLedger(ctx, svc, *ledger); err != nil {
			return fmt.Errorf("backup restore: restored, but re-applying deletions failed: %w", err)
		}
	}
	fmt.Fprintf(c.stdout, "backup %s restored into %s (%d file(s)); %d session(s) deleted after the backup were deleted again\n",
		b.Header.ID, cfg.Data, len(b.Manifest.Entries), redeleted)
	return nil
}

// reapplyLedger crypto-shreds every session listed in a ledger file that
// the restored data still holds, then compacts.
func reapplyLedger(ctx context.Context, svc *lifecycle.Service, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var entries []store.DeletedSession
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var d store.DeletedSession
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil || d.ProjectID == "" || d.SessionID == "" {
			return 0, fmt.Errorf("%s: not a deletion ledger line: %q", path, sc.Text())
		}
		entries = append(entries, d)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	n, err := svc.ReapplyDeletions(cliCtx(ctx), entries)
	if err != nil {
		return n, err
	}
	_, err = svc.Compact(ctx, cliHolder(), 0)
	return n, err
}

// restorePostgres restores a pg_dump backup into the (empty) --database
// with pg_restore, and its blobs to --blobs (or DATA/blobs).
func restorePostgres(ctx context.Context, b *lifecycle.Backup, cfg *config.Config) ([]lifecycle.Problem, error) {
	pgRestore, err := exec.LookPath("pg_restore")
	if err != nil {
		return nil, errors.New("restoring a Postgres backup needs pg_restore in PATH (install the PostgreSQL client tools)")
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, err
	}
	bl, err := blob.Open(ctx, cfg.Blobs, cfg.Data)
	if err != nil {
		return nil, err
	}
	return b.Restore(ctx, func(data []byte) error {
		// The dump holds wrapped keys and metadata only; it is still removed at once.
		f, err := os.CreateTemp("", "veil-restore-*.dump")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		f.Close()
		out, err := exec.CommandContext(ctx, pgRestore, "--no-owner", "--exit-on-error", "--dbname="+cfg.DatabaseDSN(), f.Name()).CombinedOutput()
		if err != nil {
			return fmt.Errorf("pg_restore (the database must be empty): %v: %s", err, oneLine(string(out)))
		}
		return nil
	}, bl)
}

func runBackupList(ctx context.Context, c *cli, args []string) error {
	dir, args, err := positionalBackup("list", args)
	if err != nil {
		return err
	}
	cfg := config.Default()
	fs := newFlags(c, "list", "veil backup list DIR|s3://bucket/prefix [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	src, err := openBackupArg(ctx, "list", dir)
	if err != nil {
		return err
	}
	list, other, err := lifecycle.ListBackups(ctx, src)
	if err != nil {
		return fmt.Errorf("backup list: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]any{"backups": list, "other": other})
	}
	for _, b := range list {
		fmt.Fprintf(c.stdout, "%s\t%s\t%s\t%s\n", b.Name, b.Header.ID, b.Header.CreatedAt.Format(time.RFC3339), b.Header.Dialect)
	}
	for _, o := range other {
		fmt.Fprintf(c.stdout, "%s\t(not a complete Veil backup)\n", o)
	}
	return nil
}
