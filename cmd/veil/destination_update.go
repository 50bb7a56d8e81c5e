package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/destination"
)

const destinationUpdateUsage = `veil destination update --project ID --destination ID [flags of the settings to change] [--verify]
  Only the flags given change; everything else, secrets included, is kept.
  [--name TEXT] [--age-recipient age1…|none]
  s3:   [--bucket B] [--prefix P] [--region R] [--endpoint URL] [--path-style=true|false] [--sse none|AES256|aws:kms]
        [--kms-key-id K] [--access-key-id ID (needs its secret)] [--remove-secret session_token]
        new secret access key in --secret-file FILE or VEIL_DESTINATION_SECRET
  sftp: [--host H] [--port N] [--user U] [--dir D] [--host-key LINE | --host-key-file FILE]
        [--remove-secret password|private_key]
        new private key (OpenSSH/PEM) or password in --secret-file FILE or VEIL_DESTINATION_SECRET
  --verify: write, read back and delete a probe with the new settings first; save only if it works.
  Kind and mode cannot change: add a new destination instead.
  [--json] [storage flags]`

// runDestinationUpdate edits a destination in place: the flags given
// (command line or VEIL_<FLAG>) change, the rest stays; secrets never come
// from the command line.
func runDestinationUpdate(ctx context.Context, c *cli, args []string) error {
	var fs *flag.FlagSet
	str := map[string]*string{}
	var port *int
	var pathStyle, verify *bool
	d, done, err := openDestinationCmd(ctx, c, "update", destinationUpdateUsage, args, true, true, func(f *flag.FlagSet) {
		fs = f
		for _, s := range []struct{ name, help string }{
			{"name", "a label for the destination"},
			{"kind", "only to check: the kind cannot change"},
			{"mode", "only to check: the mode cannot change"},
			{"age-recipient", "encrypt every pushed object to this age X25519 recipient (age1…); none: stop encrypting"},
			{"bucket", "s3: bucket name"},
			{"prefix", "s3: key prefix inside the bucket"},
			{"region", "s3: region"},
			{"endpoint", "s3: endpoint URL of an S3-compatible server (empty: AWS)"},
			{"sse", "s3: server-side encryption: none, AES256 or aws:kms"},
			{"kms-key-id", "s3: KMS key id for --sse aws:kms"},
			{"access-key-id", "s3: new access key id (with its secret in --secret-file or VEIL_DESTINATION_SECRET)"},
			{"host", "sftp: server host name or IP"},
			{"user", "sftp: user name"},
			{"dir", "sftp: base directory (empty: the login directory)"},
			{"host-key", "sftp: the server's public key to pin (authorized_keys or known_hosts line)"},
			{"host-key-file", "sftp: file holding the host key line (e.g. ssh-keyscan output)"},
			{"secret-file", "file holding a new secret: s3 secret access key; sftp private key or password"},
			{"remove-secret", "drop stored optional secrets, comma-separated: session_token, password, private_key"},
		} {
			str[s.name] = f.String(s.name, "", s.help)
		}
		port = f.Int("port", 0, "sftp: server port")
		pathStyle = f.Bool("path-style", false, "s3: path-style requests (most S3-compatible servers)")
		verify = f.Bool("verify", false, "probe the new settings first and save only if the probe passes")
	})
	if err != nil {
		return err
	}
	defer done()
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	opt := func(name string) *string {
		if !given[name] {
			return nil
		}
		v := *str[name]
		return &v
	}
	cur, err := d.svc.Find(ctx, d.project, d.id)
	if err != nil {
		return fmt.Errorf("update destination: %w", userErr(err))
	}
	u := destination.Update{Name: opt("name"), Kind: *str["kind"], Mode: *str["mode"], Verify: *verify}
	if r := opt("age-recipient"); r != nil {
		if *r == "none" {
			*r = ""
		}
		u.AgeRecipient = r
	}
	if r := *str["remove-secret"]; r != "" {
		u.RemoveSecrets = strings.Split(r, ",")
	}
	secret, err := readSecret(c, *str["secret-file"])
	if err != nil {
		return err
	}
	switch cur.Kind {
	case destination.KindS3:
		u.S3 = &destination.S3Update{Bucket: opt("bucket"), Prefix: opt("prefix"), Region: opt("region"), Endpoint: opt("endpoint"),
			SSE: opt("sse"), KMSKeyID: opt("kms-key-id")}
		if given["path-style"] {
			u.S3.PathStyle = pathStyle
		}
		u.Secrets = destination.Secrets{AccessKeyID: *str["access-key-id"], SecretAccessKey: strings.TrimSpace(secret)}
	case destination.KindSFTP:
		u.SFTP = &destination.SFTPUpdate{Host: opt("host"), User: opt("user"), Dir: opt("dir"), HostKey: opt("host-key")}
		if given["port"] {
			u.SFTP.Port = port
		}
		if f := *str["host-key-file"]; f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return usagef("--host-key-file: %v", err)
			}
			hk := firstKeyLine(string(b))
			u.SFTP.HostKey = &hk
		}
		if strings.HasPrefix(secret, "-----BEGIN") {
			u.Secrets.PrivateKey = secret
		} else {
			u.Secrets.Password = secret
		}
	}
	if u.Verify {
		fmt.Fprintf(c.stderr, "writing a probe object with the new settings of %s …\n", d.id)
	}
	out, err := d.svc.Update(ctx, d.project, d.id, u)
	if err != nil {
		return fmt.Errorf("update destination: %w", userErr(err))
	}
	if len(out.Changed) > 0 {
		if _, err := d.svc.Audit.Record(cliCtx(ctx), audit.Entry{OrgID: orgOf(ctx, d), Action: "destination.update",
			ObjectKind: "destination", ObjectID: d.id, Details: map[string]string{"project": d.project,
				"changed": strings.Join(out.Changed, ","), "verified": strconv.FormatBool(out.Test != nil)}}); err != nil {
			return err
		}
	}
	if d.asJSON {
		return json.NewEncoder(c.stdout).Encode(out)
	}
	if len(out.Changed) == 0 {
		fmt.Fprintf(c.stdout, "nothing changed for %s\n", d.id)
		return nil
	}
	fmt.Fprintf(c.stdout, "updated %s: %s\n", d.id, strings.Join(out.Changed, ", "))
	if out.Test != nil {
		fmt.Fprintf(c.stdout, "verified: wrote %s%s, read it back, deleted it\n", out.Test.Location, out.Test.Object)
	}
	fmt.Fprintln(c.stdout, "pending pushes use the new settings from the next push run; pushes already done keep their location")
	return nil
}
