package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/provision"
	"github.com/veil-privacy/veil/internal/settings"
	"github.com/veil-privacy/veil/internal/store"
)

// storage is the opened data layer every data command works on.
type storage struct {
	cfg    *config.Config
	log    *slog.Logger
	db     *store.DB
	blobs  blob.Bucket // nil unless asked for
	master *keyring.Master
	// settings is the project settings service shared by the dashboard,
	// the API and ingest of this process (see projectSettings).
	settings *settings.Service
}

type openOpts struct {
	blobs     bool // open and check the blob store
	noMaster  bool // do not load the master key (migrate)
	noMigrate bool // do not apply migrations
}

// loadConfig parses a data command's flags, applies VEIL_* and validates.
func loadConfig(c *cli, fs *flag.FlagSet, cfg *config.Config, args []string, server bool) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.ApplyEnv(fs, c.getenv); err != nil {
		return usagef("%v", err)
	}
	err := cfg.ValidateStorage()
	if server && err == nil {
		err = cfg.ValidateServer()
	}
	if err != nil {
		return usagef("%v", err)
	}
	return nil
}

// openStorage opens the metadata store (migrating it), the master key and,
// when asked, the blob store. Every failure is one line naming the fix.
func openStorage(ctx context.Context, cfg *config.Config, log *slog.Logger, o openOpts) (*storage, error) {
	if err := ensureDataDir(cfg); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return nil, err
	}
	s := &storage{cfg: cfg, log: log, db: db}
	if !o.noMigrate {
		applied, err := db.Migrate(ctx)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("migrate database: %w", err)
		}
		if len(applied) > 0 {
			log.Info("database migrated", "applied", applied)
		}
	}
	if !o.noMaster {
		if s.master, err = loadMaster(ctx, cfg, db, log); err != nil {
			db.Close()
			return nil, err
		}
	}
	if o.blobs {
		if s.blobs, err = blob.Open(ctx, cfg.Blobs, cfg.Data); err != nil {
			db.Close()
			return nil, fmt.Errorf("open blob store: %w", err)
		}
		if err := s.blobs.Ping(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("blob store not usable: %w", err)
		}
	}
	return s, nil
}

func (s *storage) Close() error { return s.db.Close() }

// provisioner returns the provisioning service; its key revocations (CLI,
// API, rotation) write key.revoked to the webhook outbox in the same
// transaction (revokeEmitter).
func (s *storage) provisioner() *provision.Service {
	return &provision.Service{Store: revokeEmitter{s.db}, Master: s.master}
}

// ensureDataDir creates the data directory (0700) and checks it is
// writable. Even in scale-out mode it holds this node's write-ahead log.
func ensureDataDir(cfg *config.Config) error {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("data directory %s cannot be created: %v — choose another with --data or fix its permissions", cfg.Data, unwrapPath(err))
	}
	probe, err := os.CreateTemp(cfg.Data, ".write-test-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: %v — choose another with --data or fix its permissions", cfg.Data, unwrapPath(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// loadMaster finds the master key: VEIL_MASTER_KEY, then --master-key-file,
// then DATA/master.key, which is generated on first use in embedded mode.
// It then checks the key opens the stored project keys.
func loadMaster(ctx context.Context, cfg *config.Config, db *store.DB, log *slog.Logger) (*keyring.Master, error) {
	var m *keyring.Master
	var err error
	path, _ := cfg.MasterKeyPath()
	switch {
	case cfg.MasterKey != "":
		if m, err = keyring.ParseMaster([]byte(cfg.MasterKey)); err != nil {
			return nil, fmt.Errorf("VEIL_MASTER_KEY: %w", err)
		}
	default:
		var loose bool
		m, loose, err = keyring.LoadMasterFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if m, err = firstRunMaster(ctx, cfg, db, path, log); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, fmt.Errorf("master key file %s: %w", path, err)
		case loose:
			log.Warn("master key file is readable by other users; run chmod 600 on it", "path", path)
		}
	}
	if err := checkMaster(ctx, db, m, path); err != nil {
		return nil, err
	}
	return m, nil
}

func firstRunMaster(ctx context.Context, cfg *config.Config, db *store.DB, path string, log *slog.Logger) (*keyring.Master, error) {
	if cfg.MasterKeyFile != "" {
		return nil, fmt.Errorf("master key file %s does not exist — create one with `veil key generate-master --out %s`", path, path)
	}
	if !cfg.Embedded() {
		return nil, errors.New("no master key: with --database set, give --master-key-file or VEIL_MASTER_KEY (create one with `veil key generate-master --out FILE`)")
	}
	projects, err := db.ListProjects(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	if len(projects) > 0 {
		return nil, fmt.Errorf("master key file %s is missing but the database holds %d project(s) sealed with a master key — restore the key file or pass --master-key-file / VEIL_MASTER_KEY", path, len(projects))
	}
	m, err := keyring.GenerateMasterFile(path)
	if err != nil {
		return nil, fmt.Errorf("generate master key %s: %w", path, err)
	}
	log.Warn("GENERATED A NEW MASTER KEY BESIDE THE DATA. It protects nothing against theft of this disk. "+
		"Move it off this disk (e.g. to a secrets manager) and pass it with --master-key-file or VEIL_MASTER_KEY; back it up — without it all data is unreadable.",
		"path", path, "master_key_id", m.ID())
	return m, nil
}

// checkMaster makes a wrong master key fail at start with a clear message,
// instead of at the first request.
func checkMaster(ctx context.Context, db *store.DB, m *keyring.Master, path string) error {
	projects, err := db.ListProjects(ctx, "")
	if err != nil {
		return fmt.Errorf("list projects: %w", err)
	}
	for _, p := range projects {
		if _, err := m.Unwrap(p.WrappedKey, provision.ProjectKeyAAD(p.OrgID, p.ID)); err != nil {
			hint := ""
			if _, serr := os.Stat(path + ".next"); serr == nil {
				hint = fmt.Sprintf(" (a master key rotation was interrupted: %s.next holds the new key; move it to %s)", path, path)
			}
			return fmt.Errorf("master key %s cannot open project %s: %w%s", m.ID(), p.ID, err, hint)
		}
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// dataPath returns a path inside the data directory.
func dataPath(cfg *config.Config, name string) string { return filepath.Join(cfg.Data, name) }

var _ = veil.ErrorCode // veil is used by sibling files
