package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/veil-privacy/veil/internal/blob"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/lifecycle"
	"github.com/veil-privacy/veil/internal/store"
)

// runAnonymize handles `veil anonymize --from DATA_DIR --to NEW_DATA_DIR`:
// an anonymized copy for staging (lifecycle.Anonymizer).
func runAnonymize(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "anonymize", "veil anonymize --from DATA_DIR [--from-database postgres://…] [--from-blobs URL] [--from-master-key-file F] --to NEW_DATA_DIR [--master-key-file F] [--json]\n\n"+
		"Writes a new, openable Veil data directory (SQLite + local blobs) holding an anonymized copy of the source's\n"+
		"organisations, projects, sessions and events: user and anonymous ids, traits, IPs and other free text in events\n"+
		"become consistent fakes (same input, same fake within one copy; the HMAC key is random and never stored);\n"+
		"replays keep their structure with all text, text attributes, input values and console/network payloads masked.\n"+
		"The copy gets its own new master key. Accounts, API tokens, write keys, webhooks and the audit log are not copied.\n"+
		"The source's master key: --from-master-key-file, VEIL_MASTER_KEY, or FROM/master.key.")
	from := fs.String("from", "", "source data directory (required; its veil.db unless --from-database)")
	fromDB := fs.String("from-database", "", "source Postgres URL, when the source is not embedded SQLite")
	fromBlobs := fs.String("from-blobs", "", "source blob store URL (default FROM/blobs)")
	fromKey := fs.String("from-master-key-file", "", "source master key file (default FROM/master.key)")
	to := fs.String("to", "", "new data directory for the copy (required; must not exist or be empty)")
	keyOut := fs.String("master-key-file", "", "where to write the copy's new master key (default NEW_DATA_DIR/master.key; must not exist)")
	asJSON := fs.Bool("json", false, "print the counts as JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usagef("anonymize: --from DATA_DIR and --to NEW_DATA_DIR are required")
	}
	if abs(*from) == abs(*to) {
		return usagef("anonymize: --to must be a new directory, not the source")
	}
	src := config.Default()
	src.Data, src.Database, src.Blobs, src.MasterKeyFile, src.MasterKey = *from, *fromDB, *fromBlobs, *fromKey, cfg.MasterKey
	if src.MasterKey == "" {
		// Never let opening the source generate a key.
		path, _ := src.MasterKeyPath()
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("anonymize: source master key %s does not exist; pass --from-master-key-file or VEIL_MASTER_KEY", path)
		}
	}
	if ents, err := os.ReadDir(*to); err == nil && len(ents) > 0 {
		return fmt.Errorf("anonymize: %s is not empty; the copy goes into a new directory", *to)
	}
	keyPath := *keyOut
	if keyPath == "" {
		keyPath = filepath.Join(*to, "master.key")
	}
	if _, err := os.Stat(keyPath); err == nil {
		return fmt.Errorf("anonymize: %s exists; the copy gets a new master key", keyPath)
	}
	log := cfg.Logger(c.stderr)
	sst, err := openStorage(ctx, &src, log, openOpts{blobs: true})
	if err != nil {
		return fmt.Errorf("anonymize: open source: %w", err)
	}
	defer sst.Close()
	if err := os.MkdirAll(*to, 0o700); err != nil {
		return err
	}
	dst, err := store.Open(ctx, filepath.Join(*to, "veil.db"))
	if err != nil {
		return err
	}
	defer dst.Close()
	if _, err := dst.Migrate(ctx); err != nil {
		return fmt.Errorf("anonymize: migrate the copy: %w", err)
	}
	dblobs, err := blob.Open(ctx, "", *to)
	if err != nil {
		return err
	}
	master, err := keyring.GenerateMasterFile(keyPath)
	if err != nil {
		return fmt.Errorf("anonymize: write the copy's master key: %w", err)
	}
	a := &lifecycle.Anonymizer{SrcStore: sst.db, SrcBlobs: sst.blobs, SrcMaster: sst.master,
		DstStore: dst, DstBlobs: dblobs, DstMaster: master,
		Progress: func(format string, args ...any) { fmt.Fprintf(c.stderr, "veil: anonymize: "+format+"\n", args...) }}
	res, err := a.Run(ctx)
	if err != nil {
		return fmt.Errorf("anonymize: %w (the partial copy in %s is unusable; delete it)", err, *to)
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]any{"copy": res, "to": *to, "master_key_file": keyPath})
	}
	fmt.Fprintf(c.stdout, "anonymized copy written to %s: %d org(s), %d project(s), %d session(s) (%d segments), %d event(s) in %d batch(es); its master key is %s\n",
		*to, res.Orgs, res.Projects, res.Sessions, res.Segments, res.Events, res.Batches, keyPath)
	return nil
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return filepath.Clean(a)
}
