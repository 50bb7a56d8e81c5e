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
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/veil-privacy/veil"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/destination"
	"github.com/veil-privacy/veil/internal/lifecycle"
)

// allowPrivateDestinations reports VEIL_DESTINATION_ALLOW_PRIVATE: an
// operator's explicit opt-in to destinations (S3 endpoints, SFTP hosts)
// on loopback and private networks, e.g. an on-premises MinIO.
func allowPrivateDestinations(getenv func(string) string) bool {
	ok, _ := strconv.ParseBool(getenv("VEIL_DESTINATION_ALLOW_PRIVATE"))
	return ok
}

// destinationService wires the destination service to opened storage
// (blobs open); compaction after do_not_store deletions goes through the
// lifecycle service under its lease. getenv reads the operator's
// VEIL_DESTINATION_ALLOW_PRIVATE.
func destinationService(st *storage, holder string, idle time.Duration, getenv func(string) string) *destination.Service {
	life := lifecycleService(st, nil)
	return &destination.Service{Store: st.db, Blobs: st.blobs, Master: st.master, AllowPrivate: allowPrivateDestinations(getenv),
		Audit: &audit.Log{Store: st.db, Logger: st.log.With("component", "audit")}, Logger: st.log.With("component", "destination"),
		NodeID: holder, Version: versionString(), IdleTimeout: idle,
		Compact: func(ctx context.Context) error {
			_, err := life.Compact(ctx, holder, 1000)
			if errors.Is(err, lifecycle.ErrLeaseHeld) {
				return nil // another node compacts now; the hourly run catches up
			}
			return err
		}}
}

// destinationPushInterval is how often veil serve runs the push job.
const destinationPushInterval = 30 * time.Second

// startDestinations runs the push job on this node until ctx ends; leases
// make one node at a time push to each destination.
func startDestinations(ctx context.Context, st *storage, reg prometheus.Registerer, log *slog.Logger, idle time.Duration) {
	host, _ := os.Hostname()
	svc := destinationService(st, host+"/"+veil.NewID("dp"), idle, os.Getenv)
	if svc.AllowPrivate {
		log.Warn("destinations may target private and loopback addresses (VEIL_DESTINATION_ALLOW_PRIVATE)")
	}
	svc.Logger = log.With("component", "destination")
	svc.Metrics = destination.NewMetrics(reg)
	go svc.Run(ctx, destinationPushInterval)
}

func runDestination(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil destination", []command{
		{"add", "add an S3 or SFTP destination that recordings are pushed to", runDestinationAdd},
		{"list", "list a project's destinations with their push counts and alerts", runDestinationList},
		{"update", "change a destination's settings or rotate its secrets in place (push history kept)", runDestinationUpdate},
		{"test", "write, read back and delete a small probe object", runDestinationTest},
		{"remove", "remove a destination (stubs of pushed recordings stay)", runDestinationRemove},
		{"pause", "stop pushing to a destination; Veil keeps every recording meanwhile", runDestinationPause},
		{"resume", "push to a paused destination again (it catches up)", runDestinationResume},
		{"push", "run the push job once now (and do_not_store deletion)", runDestinationPush},
	}, args)
}

type destinationCmd struct {
	st      *storage
	svc     *destination.Service
	project string
	id      string
	asJSON  bool
}

func openDestinationCmd(ctx context.Context, c *cli, name, usage string, args []string, needID, needProject bool, extra func(fs *flag.FlagSet)) (*destinationCmd, func(), error) {
	cfg := config.Default()
	fs := newFlags(c, name, usage)
	cfg.BindStorage(fs)
	project := fs.String("project", "", "project id")
	id := fs.String("destination", "", "destination id (see `veil destination list`)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if extra != nil {
		extra(fs)
	}
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return nil, nil, err
	}
	switch {
	case needProject && *project == "":
		return nil, nil, usagef("destination %s: --project is required", name)
	case needID && *id == "":
		return nil, nil, usagef("destination %s: --destination is required", name)
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return nil, nil, err
	}
	if *project != "" {
		if _, err := st.db.FindProjectByID(ctx, *project); err != nil {
			st.Close()
			return nil, nil, userErr(err)
		}
	}
	host, _ := os.Hostname()
	svc := destinationService(st, host+"/cli-"+veil.NewID("dp"), 0, c.getenv)
	return &destinationCmd{st: st, svc: svc, project: *project, id: *id, asJSON: *asJSON}, func() { st.Close() }, nil
}

// readSecret returns the secret from --secret-file, else from
// VEIL_DESTINATION_SECRET, never from the command line.
func readSecret(c *cli, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usagef("--secret-file: %v", err)
		}
		if s := string(b); strings.HasPrefix(s, "-----BEGIN") {
			return s, nil // a PEM key keeps its line breaks
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return c.getenv("VEIL_DESTINATION_SECRET"), nil
}

func runDestinationAdd(ctx context.Context, c *cli, args []string) error {
	var name, kind, mode, bucket, prefix, region, endpoint, sse, kms, accessKey, host, user, dir, hostKey, hostKeyFile, secretFile, recipient *string
	var port *int
	var pathStyle *bool
	usage := `veil destination add --project ID --kind s3|sftp [--mode copy|do_not_store] [--name TEXT] [--age-recipient age1…]
  s3:   --bucket B [--prefix P] [--region R] [--endpoint URL] [--path-style] [--sse none|AES256|aws:kms] [--kms-key-id K]
        --access-key-id ID, secret access key in --secret-file FILE or VEIL_DESTINATION_SECRET
  sftp: --host H [--port 22] --user U [--dir D] --host-key 'ssh-ed25519 AAAA…' (or --host-key-file FILE),
        private key (OpenSSH/PEM, unencrypted) or password in --secret-file FILE or VEIL_DESTINATION_SECRET
  [--json] [storage flags]`
	d, done, err := openDestinationCmd(ctx, c, "add", usage, args, false, true, func(fs *flag.FlagSet) {
		name = fs.String("name", "", "a label for the destination")
		kind = fs.String("kind", "", "s3 or sftp (required)")
		mode = fs.String("mode", destination.ModeCopy, "copy (keep Veil's copy) or do_not_store (delete it once every destination verified the push)")
		recipient = fs.String("age-recipient", "", "encrypt every pushed object to this age X25519 recipient (age1…)")
		bucket = fs.String("bucket", "", "s3: bucket name")
		prefix = fs.String("prefix", "", "s3: key prefix inside the bucket")
		region = fs.String("region", "us-east-1", "s3: region")
		endpoint = fs.String("endpoint", "", "s3: endpoint URL of an S3-compatible server (default: AWS)")
		pathStyle = fs.Bool("path-style", false, "s3: path-style requests (most S3-compatible servers)")
		sse = fs.String("sse", destination.SSENone, "s3: server-side encryption: none, AES256 or aws:kms")
		kms = fs.String("kms-key-id", "", "s3: KMS key id for --sse aws:kms")
		accessKey = fs.String("access-key-id", "", "s3: access key id")
		host = fs.String("host", "", "sftp: server host name or IP")
		port = fs.Int("port", 22, "sftp: server port")
		user = fs.String("user", "", "sftp: user name")
		dir = fs.String("dir", "", "sftp: base directory (default: the login directory)")
		hostKey = fs.String("host-key", "", "sftp: the server's public key to pin (authorized_keys or known_hosts line)")
		hostKeyFile = fs.String("host-key-file", "", "sftp: file holding the host key line (e.g. ssh-keyscan output)")
		secretFile = fs.String("secret-file", "", "file holding the secret: s3 secret access key; sftp private key or password")
	})
	if err != nil {
		return err
	}
	defer done()
	secret, err := readSecret(c, *secretFile)
	if err != nil {
		return err
	}
	in := destination.Input{Name: *name, Kind: *kind, Mode: *mode, AgeRecipient: *recipient}
	switch *kind {
	case destination.KindS3:
		in.S3 = &destination.S3Config{Bucket: *bucket, Prefix: *prefix, Region: *region, Endpoint: *endpoint,
			PathStyle: *pathStyle, SSE: *sse, KMSKeyID: *kms}
		in.Secrets = destination.Secrets{AccessKeyID: *accessKey, SecretAccessKey: strings.TrimSpace(secret)}
	case destination.KindSFTP:
		hk := *hostKey
		if *hostKeyFile != "" {
			b, err := os.ReadFile(*hostKeyFile)
			if err != nil {
				return usagef("--host-key-file: %v", err)
			}
			hk = firstKeyLine(string(b))
		}
		in.SFTP = &destination.SFTPConfig{Host: *host, Port: *port, User: *user, Dir: *dir, HostKey: hk}
		if strings.HasPrefix(secret, "-----BEGIN") {
			in.Secrets.PrivateKey = secret
		} else {
			in.Secrets.Password = secret
		}
	}
	v, err := d.svc.Create(ctx, d.project, in)
	if err != nil {
		return fmt.Errorf("add destination: %w", userErr(err))
	}
	if _, err := d.svc.Audit.Record(cliCtx(ctx), audit.Entry{OrgID: orgOf(ctx, d), Action: "destination.create",
		ObjectKind: "destination", ObjectID: v.ID, Details: map[string]string{"project": d.project, "kind": v.Kind, "mode": v.Mode}}); err != nil {
		return err
	}
	if d.asJSON {
		return json.NewEncoder(c.stdout).Encode(v)
	}
	fmt.Fprintf(c.stdout, "destination id: %s\nCheck it with: veil destination test --project %s --destination %s\n", v.ID, d.project, v.ID)
	return nil
}

// firstKeyLine returns the first non-comment line of a host key file.
func firstKeyLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return ""
}

func orgOf(ctx context.Context, d *destinationCmd) string {
	p, err := d.st.db.FindProjectByID(ctx, d.project)
	if err != nil {
		return ""
	}
	return p.OrgID
}

// where formats a destination's location for the list.
func where(v *destination.View) string {
	switch {
	case v.S3 != nil:
		w := "s3://" + v.S3.Bucket + "/" + v.S3.Prefix
		if v.S3.Endpoint != "" {
			w += " @" + v.S3.Endpoint
		}
		return w
	case v.SFTP != nil:
		return fmt.Sprintf("sftp://%s@%s:%d/%s", v.SFTP.User, v.SFTP.Host, v.SFTP.Port, strings.TrimLeft(v.SFTP.Dir, "/"))
	}
	return ""
}

func runDestinationList(ctx context.Context, c *cli, args []string) error {
	d, done, err := openDestinationCmd(ctx, c, "list", "veil destination list --project ID [--json] [storage flags]", args, false, true, nil)
	if err != nil {
		return err
	}
	defer done()
	vs, err := d.svc.List(ctx, d.project)
	if err != nil {
		return err
	}
	if d.asJSON {
		return json.NewEncoder(c.stdout).Encode(vs)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DESTINATION ID\tNAME\tMODE\tWHERE\tAGE\tPUSHED\tPENDING\tSTATUS")
	for _, v := range vs {
		status := "ok"
		if v.Alert != "" {
			status = fmt.Sprintf("ALERT: failing since %s (%s)", v.FailingSince.UTC().Format(time.RFC3339), v.Alert)
		} else if v.FailingSince != nil {
			status = "retrying since " + v.FailingSince.UTC().Format(time.RFC3339)
		}
		if v.PausedAt != nil {
			status = "PAUSED since " + v.PausedAt.UTC().Format(time.RFC3339) + "; " + status
		}
		enc := "no"
		if v.AgeRecipient != "" {
			enc = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", v.ID, v.Name, v.Mode, where(v), enc, v.Pushes.Done, v.Pushes.Pending, status)
	}
	return tw.Flush()
}

func runDestinationTest(ctx context.Context, c *cli, args []string) error {
	d, done, err := openDestinationCmd(ctx, c, "test", "veil destination test --project ID --destination ID [--json] [storage flags]", args, true, true, nil)
	if err != nil {
		return err
	}
	defer done()
	fmt.Fprintf(c.stderr, "writing a probe object to %s …\n", d.id)
	res, err := d.svc.Test(ctx, d.project, d.id)
	if veil.ErrorCode(err) != veil.ENOTFOUND {
		if _, aerr := d.svc.Audit.Record(cliCtx(ctx), audit.Entry{OrgID: orgOf(ctx, d), Action: "destination.test",
			ObjectKind: "destination", ObjectID: d.id, Details: map[string]string{"project": d.project}}); aerr != nil {
			return aerr
		}
	}
	if err != nil {
		return fmt.Errorf("destination test failed: %w", userErr(err))
	}
	if d.asJSON {
		return json.NewEncoder(c.stdout).Encode(res)
	}
	fmt.Fprintf(c.stdout, "ok: wrote %s%s (%d bytes), read it back (size and SHA-256 match), deleted it\n", res.Location, res.Object, res.Bytes)
	return nil
}

func runDestinationRemove(ctx context.Context, c *cli, args []string) error {
	d, done, err := openDestinationCmd(ctx, c, "remove", "veil destination remove --project ID --destination ID [storage flags]", args, true, true, nil)
	if err != nil {
		return err
	}
	defer done()
	if err := d.svc.Remove(ctx, d.project, d.id); err != nil {
		return fmt.Errorf("remove destination: %w", userErr(err))
	}
	if _, err := d.svc.Audit.Record(cliCtx(ctx), audit.Entry{OrgID: orgOf(ctx, d), Action: "destination.delete",
		ObjectKind: "destination", ObjectID: d.id, Details: map[string]string{"project": d.project}}); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "removed %s (recordings already pushed there keep their stubs)\n", d.id)
	return nil
}

func runDestinationPause(ctx context.Context, c *cli, args []string) error {
	return setDestinationPaused(ctx, c, "pause", args, true)
}

func runDestinationResume(ctx context.Context, c *cli, args []string) error {
	return setDestinationPaused(ctx, c, "resume", args, false)
}

func setDestinationPaused(ctx context.Context, c *cli, name string, args []string, paused bool) error {
	d, done, err := openDestinationCmd(ctx, c, name, "veil destination "+name+" --project ID --destination ID [storage flags]", args, true, true, nil)
	if err != nil {
		return err
	}
	defer done()
	if _, err := d.svc.SetPaused(ctx, d.project, d.id, paused); err != nil {
		return fmt.Errorf("%s destination: %w", name, userErr(err))
	}
	if _, err := d.svc.Audit.Record(cliCtx(ctx), audit.Entry{OrgID: orgOf(ctx, d), Action: "destination." + name,
		ObjectKind: "destination", ObjectID: d.id, Details: map[string]string{"project": d.project}}); err != nil {
		return err
	}
	if paused {
		fmt.Fprintf(c.stdout, "paused %s: nothing is pushed to it, and Veil keeps every recording until it is resumed or removed\n", d.id)
	} else {
		fmt.Fprintf(c.stdout, "resumed %s: the next push run catches up\n", d.id)
	}
	return nil
}

func runDestinationPush(ctx context.Context, c *cli, args []string) error {
	var idle *time.Duration
	d, done, err := openDestinationCmd(ctx, c, "push", "veil destination push [--idle 30m] [--json] [storage flags]", args, false, false, func(fs *flag.FlagSet) {
		idle = fs.Duration("idle", destination.DefaultIdleTimeout, "push sessions that have received nothing for this long")
	})
	if err != nil {
		return err
	}
	defer done()
	d.svc.IdleTimeout = *idle
	res, err := d.svc.RunOnce(cliCtx(ctx))
	if d.asJSON {
		if jerr := json.NewEncoder(c.stdout).Encode(res); jerr != nil {
			return jerr
		}
	} else {
		fmt.Fprintf(c.stdout, "enqueued %d, pushed %d, failed %d (will retry), local copies deleted %d\n", res.Enqueued, res.Pushed, res.Failed, res.Deleted)
	}
	return err
}

// pushedStub answers, for a session Veil no longer stores because it was
// pushed under do_not_store, an error saying where it went (from the
// stub); nil when the session is stored here or has no stub. projectID ""
// searches every project.
func pushedStub(ctx context.Context, st *storage, projectID, sessionID string) error {
	ids := []string{projectID}
	if projectID == "" {
		ps, err := st.db.ListProjects(ctx, "")
		if err != nil {
			return err
		}
		ids = ids[:0]
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
	}
	var where []string
	for _, pid := range ids {
		if _, err := st.db.FindSession(ctx, pid, sessionID); err == nil {
			return nil
		}
		pushes, err := st.db.ListSessionPushes(ctx, pid, sessionID)
		if err != nil {
			return err
		}
		for _, p := range pushes {
			if p.State == "done" && p.PushedAt != nil {
				where = append(where, fmt.Sprintf("destination %s (%s%s) at %s, sha256 %s", p.DestinationID, p.Location,
					p.Prefix, p.PushedAt.UTC().Format(time.RFC3339), p.SHA256))
			}
		}
	}
	if len(where) == 0 {
		return nil
	}
	return veil.Errorf(veil.ENOTFOUND, "session %s is not stored in Veil: it was pushed to %s and deleted here (do_not_store)",
		sessionID, strings.Join(where, "; "))
}
