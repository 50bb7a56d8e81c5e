package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/keyring"
)

func runKey(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil key", []command{
		{"create", "create a browser or server write key", runKeyCreate},
		{"list", "list a project's write keys", runKeyList},
		{"rotate", "replace a write key, keeping the old one working for an overlap", runKeyRotate},
		{"revoke", "revoke a write key at once", runKeyRevoke},
		{"generate-master", "write a new master key file", runKeyGenerateMaster},
		{"rotate-master", "re-wrap all project keys under a new master key", runKeyRotateMaster},
	}, args)
}

func runKeyCreate(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "create", "veil key create --project ID --kind browser|server [--origin URL]... [--json] [storage flags]")
	cfg.BindStorage(fs)
	project := fs.String("project", "", "project id (required)")
	kind := fs.String("kind", "", "browser (public, origin-checked, write-only) or server (secret)")
	var origins stringList
	fs.Var(&origins, "origin", "allowed origin for a browser key (repeatable), e.g. https://*.example.com")
	asJSON := fs.Bool("json", false, `print {"key_id","key"} as JSON`)
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *project == "" || *kind == "" {
		return usagef("key create: --project and --kind are required")
	}
	if k := veil.KeyKind(*kind); !k.Valid() {
		return usagef("key create: --kind must be browser or server, got %q", *kind)
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{})
	if err != nil {
		return err
	}
	defer st.Close()
	k, secret, err := st.provisioner().CreateKey(ctx, *project, veil.KeyKind(*kind), origins)
	if err != nil {
		return fmt.Errorf("create key: %w", userErr(err))
	}
	if k.Kind == veil.KeyBrowser && len(origins) == 0 {
		fmt.Fprintln(c.stderr, "veil: note: this browser key has no allowed origin, so every browser request with it is refused")
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]string{"key_id": k.ID, "key": secret})
	}
	fmt.Fprintf(c.stdout, "key id: %s\nkey:    %s\n", k.ID, secret)
	if k.Kind == veil.KeyServer {
		fmt.Fprintln(c.stdout, "This server key is shown only now; store it as a secret.")
	}
	return nil
}

func runKeyList(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "list", "veil key list --project ID [--json] [storage flags]")
	cfg.BindStorage(fs)
	project := fs.String("project", "", "project id (required)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *project == "" {
		return usagef("key list: --project is required")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.db.FindProjectByID(ctx, *project); err != nil {
		return userErr(err)
	}
	keys, err := st.db.ListKeys(ctx, *project)
	if err != nil {
		return err
	}
	if *asJSON {
		if keys == nil {
			keys = []*veil.WriteKey{}
		}
		return json.NewEncoder(c.stdout).Encode(keys)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY ID\tKIND\tPREFIX\tSTATUS\tORIGINS")
	for _, k := range keys {
		status := "active"
		if k.Revoked() {
			status = "revoked " + k.RevokedAt.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\n", k.ID, k.Kind, k.Prefix, status, strings.Join(k.Origins, " "))
	}
	return tw.Flush()
}

func runKeyRevoke(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "revoke", "veil key revoke --project ID --key KEY_ID [storage flags]")
	cfg.BindStorage(fs)
	project := fs.String("project", "", "project id (required)")
	keyID := fs.String("key", "", "key id to revoke (required; see `veil key list`)")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *project == "" || *keyID == "" {
		return usagef("key revoke: --project and --key are required")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.provisioner().RevokeKey(ctx, *project, *keyID); err != nil {
		return fmt.Errorf("revoke key: %w", userErr(err))
	}
	fmt.Fprintf(c.stdout, "revoked %s\n", *keyID)
	return nil
}

func runKeyGenerateMaster(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "generate-master", "veil key generate-master --out FILE")
	out := fs.String("out", "", "file to create (mode 0600; never overwritten)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("generate-master: --out is required")
	}
	m, err := keyring.GenerateMasterFile(*out)
	if err != nil {
		return fmt.Errorf("generate master key: %w", err)
	}
	fmt.Fprintf(c.stdout, "wrote master key %s to %s (mode 0600). Back it up: without it the data is unreadable.\n", m.ID(), *out)
	return nil
}

// userErr turns a *veil.Error into a plain error of its user message, so
// the CLI prints "Project not found." rather than the code dump.
func userErr(err error) error {
	if veil.ErrorCode(err) != veil.EINTERNAL {
		return fmt.Errorf("%s", veil.ErrorMessage(err))
	}
	return err
}

func runKeyRotate(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "rotate", "veil key rotate --project ID --key KEY_ID [--overlap 24h] [--json] [storage flags]")
	cfg.BindStorage(fs)
	project := fs.String("project", "", "project id (required)")
	keyID := fs.String("key", "", "key id to replace (required)")
	overlap := fs.Duration("overlap", 0, "how long the old key keeps working (at most 720h)")
	asJSON := fs.Bool("json", false, `print {"key_id","key","old_key_revoked_at"} as JSON`)
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *project == "" || *keyID == "" {
		return usagef("key rotate: --project and --key are required")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{})
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := st.db.ListKeys(ctx, *project)
	if err != nil {
		return err
	}
	var old *veil.WriteKey
	for _, k := range keys {
		if k.ID == *keyID {
			old = k
		}
	}
	if old == nil {
		return errors.New("rotate key: key not found in this project (see `veil key list`)")
	}
	k, secret, err := st.provisioner().RotateKey(ctx, *project, old, *overlap)
	if err != nil {
		return fmt.Errorf("rotate key: %w", userErr(err))
	}
	until := time.Now().Add(*overlap).UTC().Format(time.RFC3339)
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]string{"key_id": k.ID, "key": secret, "old_key_revoked_at": until})
	}
	fmt.Fprintf(c.stdout, "key id: %s\nkey:    %s\nthe old key %s stops working at %s\n", k.ID, secret, old.ID, until)
	return nil
}
