package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/provision"
)

// runKeyRotateMaster re-wraps every project data key under a new master
// key in one transaction. Sealed data is not touched: it is sealed by the
// project and session keys, which do not change.
//
// With the default key file (DATA/master.key) the new key is written to
// master.key.next first and renamed over master.key only after the
// database commit, so a crash leaves either the old state or a clear hint.
func runKeyRotateMaster(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "rotate-master", "veil key rotate-master [--new-key-file FILE] [storage flags]")
	cfg.BindStorage(fs)
	newFile := fs.String("new-key-file", "", "the new master key file (created if missing); required unless the key is the default DATA/master.key")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	defaultKey := cfg.MasterKey == "" && cfg.MasterKeyFile == ""
	if *newFile == "" && !defaultKey {
		return usagef("rotate-master: --new-key-file is required when the master key comes from --master-key-file or VEIL_MASTER_KEY")
	}
	log := cfg.Logger(c.stderr)
	st, err := openStorage(ctx, &cfg, log, openOpts{})
	if err != nil {
		return err
	}
	defer st.Close()

	target := *newFile
	if target == "" {
		current, _ := cfg.MasterKeyPath()
		target = current + ".next"
	}
	next, err := loadOrGenerateMaster(target)
	if err != nil {
		return err
	}
	if next.ID() == st.master.ID() {
		return fmt.Errorf("the new master key %s is the current one; give a different --new-key-file", next.ID())
	}
	old := st.master
	if err := rewrapInstanceKeys(ctx, st, old, next); err != nil {
		return fmt.Errorf("rotate master key (nothing changed): %w", err)
	}
	n, err := st.db.RewrapProjectKeys(ctx, func(p *veil.Project) ([]byte, error) {
		if id, _, err := keyring.WrappedBy(p.WrappedKey); err == nil && id == next.ID() {
			return p.WrappedKey, nil // already moved by an earlier, interrupted run
		}
		w, err := keyring.Rewrap(old, next, p.WrappedKey, provision.ProjectKeyAAD(p.OrgID, p.ID))
		if err != nil {
			return nil, fmt.Errorf("project %s: %w", p.ID, err)
		}
		return w, nil
	})
	if err != nil {
		return fmt.Errorf("rotate master key (nothing changed): %w", err)
	}
	log.Info("master key rotated", "projects", n, "old_master_key_id", old.ID(), "new_master_key_id", next.ID())
	if *newFile == "" {
		current, _ := cfg.MasterKeyPath()
		if err := replaceFile(target, current); err != nil {
			return fmt.Errorf("project keys are now wrapped by %s, but installing it failed: %w — move %s to %s by hand", next.ID(), err, target, current)
		}
		fmt.Fprintf(c.stdout, "rotated %d project key(s) from master key %s to %s; %s now holds the new key\n", n, old.ID(), next.ID(), current)
	} else {
		fmt.Fprintf(c.stdout, "rotated %d project key(s) from master key %s to %s\nNow run Veil with --master-key-file %s (or its contents in VEIL_MASTER_KEY) and restart every server.\n", n, old.ID(), next.ID(), target)
	}
	fmt.Fprintln(c.stdout, "The old key no longer opens current data, but still opens backups taken before now: keep it only as long as those backups.")
	return nil
}

func loadOrGenerateMaster(path string) (*keyring.Master, error) {
	m, loose, err := keyring.LoadMasterFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m, err = keyring.GenerateMasterFile(path)
		if err != nil {
			return nil, fmt.Errorf("generate new master key %s: %w", path, err)
		}
	case err != nil:
		return nil, fmt.Errorf("new master key file %s: %w", path, err)
	case loose:
		return nil, fmt.Errorf("new master key file %s is readable by other users: chmod 600 it first", path)
	}
	return m, nil
}

// replaceFile atomically renames src over dst and syncs the directory.
func replaceFile(src, dst string) error {
	if err := os.Rename(src, dst); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(dst))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
