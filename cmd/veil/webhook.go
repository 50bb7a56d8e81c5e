package main

import (
	"context"
	"encoding/json"
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
	"github.com/veil-privacy/veil/internal/api"
	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/keyring"
	"github.com/veil-privacy/veil/internal/store"
	"github.com/veil-privacy/veil/internal/webhook"
)

// webhookWorkers is how many delivery workers each server runs.
const webhookWorkers = 2

// allowPrivateWebhooks reports VEIL_WEBHOOK_ALLOW_PRIVATE: an operator's
// explicit opt-in to webhook targets on loopback and private networks.
func allowPrivateWebhooks(getenv func(string) string) bool {
	ok, _ := strconv.ParseBool(getenv("VEIL_WEBHOOK_ALLOW_PRIVATE"))
	return ok
}

// webhookService manages endpoints; key is the accounts key that seals
// their secrets.
func webhookService(st *storage, key *keyring.DataKey) *webhook.Service {
	return &webhook.Service{Store: st.db, Key: key, AllowPrivate: allowPrivateWebhooks(os.Getenv), Logger: st.log.With("component", "webhook")}
}

// revokeEmitter is the metadata store with key revocation that writes
// key.revoked to the webhook outbox in the revocation's transaction (for
// immediate revocations and for rotation's scheduled ones, whose
// revoked_at is then in the future).
type revokeEmitter struct{ *store.DB }

func (s revokeEmitter) RevokeKey(ctx context.Context, projectID, keyID string, at time.Time) error {
	return s.RevokeKeyAndEmit(ctx, projectID, keyID, at)
}

// webhookKeys returns the API's key service: the provisioner, whose
// revocations emit key.revoked.
func webhookKeys(st *storage) api.KeyService { return st.provisioner() }

// bindSessionIdle registers --session-idle-timeout (VEIL_SESSION_IDLE_TIMEOUT)
// on veil serve.
func bindSessionIdle(fs *flag.FlagSet) *time.Duration {
	return fs.Duration("session-idle-timeout", webhook.DefaultIdleTimeout,
		"end a session (webhook session.ended) when none of its data has been stored for this long (1s to 24h)")
}

func validateSessionIdle(d time.Duration) error {
	if d < time.Second || d > 24*time.Hour {
		return usagef("--session-idle-timeout %s: must be between 1s and 24h", d)
	}
	return nil
}

// startSessionEnder runs the session-ended job (leased: one node at a
// time) until ctx ends.
func startSessionEnder(ctx context.Context, st *storage, reg prometheus.Registerer, log *slog.Logger, idle time.Duration) {
	host, _ := os.Hostname()
	j := &webhook.SessionEnder{Store: st.db, Holder: host + "/" + veil.NewID("se"), Idle: idle,
		Logger: log.With("component", "session-ended"), Ended: webhook.NewSessionsEndedCounter(reg)}
	go j.Run(ctx)
}

// startWebhooks starts the delivery workers and the session-ended job
// until ctx ends. Workers on every node share the outbox through leases.
// Without the accounts key (reported by mountAccounts already) it logs
// and starts no workers; events are still queued.
func startWebhooks(ctx context.Context, st *storage, reg prometheus.Registerer, log *slog.Logger, idle time.Duration) {
	startSessionEnder(ctx, st, reg, log, idle)
	key, err := accountsKey(ctx, st)
	if err != nil {
		log.Error("webhook delivery is off", "err", err)
		return
	}
	m := webhook.NewMetrics(reg)
	webhook.RegisterBacklog(reg, st.db, time.Now)
	allow := allowPrivateWebhooks(os.Getenv)
	if allow {
		log.Warn("webhooks may target private and loopback addresses (VEIL_WEBHOOK_ALLOW_PRIVATE)")
	}
	for range webhookWorkers {
		w := &webhook.Worker{Queue: st.db, Key: key, AllowPrivate: allow, Metrics: m, Logger: log.With("component", "webhook")}
		go w.Run(ctx)
	}
	go pruneWebhookLog(ctx, st, log)
}

// emitExportCompleted queues export.completed for an export made by the
// command line (actor "system"/"cli"), after the file is complete.
func emitExportCompleted(ctx context.Context, st *storage, d webhook.ExportData) error {
	d.ActorKind, d.ActorID = cliActor.Kind, cliActor.ID
	if _, err := st.db.EmitWebhookEvent(ctx, webhook.ExportCompletedEvent(d, time.Now())); err != nil {
		return fmt.Errorf("exported, but queueing the export.completed webhook failed: %w", err)
	}
	return nil
}

// webhookLogRetention is how long finished messages stay in the delivery
// log.
const webhookLogRetention = 30 * 24 * time.Hour

// pruneWebhookLog deletes finished messages older than the retention,
// hourly until ctx ends.
func pruneWebhookLog(ctx context.Context, st *storage, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, err := st.db.DeleteWebhookMessagesBefore(ctx, time.Now().Add(-webhookLogRetention)); err != nil && ctx.Err() == nil {
			log.Warn("webhook log pruning failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func runWebhook(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil webhook", []command{
		{"add", "add a webhook endpoint to a project (prints its secret once)", runWebhookAdd},
		{"list", "list a project's webhook endpoints", runWebhookList},
		{"rotate", "give an endpoint a new secret, the old one signing too for an overlap", runWebhookRotate},
		{"test", "queue a webhook.test message to an endpoint", runWebhookTest},
		{"log", "show an endpoint's recent messages and their delivery state", runWebhookLog},
		{"enable", "enable an endpoint (after it was disabled)", runWebhookEnable},
		{"delete", "delete an endpoint and its delivery log", runWebhookDelete},
	}, args)
}

// webhookCmd parses the common flags and opens storage and the service.
type webhookCmd struct {
	st       *storage
	svc      *webhook.Service
	project  string
	endpoint string
	asJSON   bool
}

func openWebhookCmd(ctx context.Context, c *cli, name, usage string, args []string, needEndpoint bool, extra func(fs flagSet)) (*webhookCmd, func(), error) {
	cfg := config.Default()
	fs := newFlags(c, name, usage)
	cfg.BindStorage(fs)
	project := fs.String("project", "", "project id (required)")
	endpoint := fs.String("endpoint", "", "endpoint id (see `veil webhook list`)")
	asJSON := fs.Bool("json", false, "print as JSON")
	if extra != nil {
		extra(fs)
	}
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return nil, nil, err
	}
	if *project == "" || needEndpoint && *endpoint == "" {
		if needEndpoint {
			return nil, nil, usagef("webhook %s: --project and --endpoint are required", name)
		}
		return nil, nil, usagef("webhook %s: --project is required", name)
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{})
	if err != nil {
		return nil, nil, err
	}
	if _, err := st.db.FindProjectByID(ctx, *project); err != nil {
		st.Close()
		return nil, nil, userErr(err)
	}
	key, err := accountsKey(ctx, st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	svc := webhookService(st, key)
	svc.AllowPrivate = allowPrivateWebhooks(c.getenv)
	return &webhookCmd{st: st, svc: svc, project: *project, endpoint: *endpoint, asJSON: *asJSON},
		func() { st.Close() }, nil
}

// flagSet is the part of *flag.FlagSet the subcommands add flags with.
type flagSet = interface {
	String(string, string, string) *string
	Duration(string, time.Duration, string) *time.Duration
}

func runWebhookAdd(ctx context.Context, c *cli, args []string) error {
	var url, desc, events *string
	w, done, err := openWebhookCmd(ctx, c, "add", "veil webhook add --project ID --url URL [--events a,b] [--description TEXT] [--json] [storage flags]", args, false, func(fs flagSet) {
		url = fs.String("url", "", "https URL to POST events to (required)")
		desc = fs.String("description", "", "what the endpoint is for")
		events = fs.String("events", "", "comma-separated event types (default: all); "+strings.Join(webhook.EventTypes, ", "))
	})
	if err != nil {
		return err
	}
	defer done()
	var types []string
	if *events != "" {
		types = strings.Split(*events, ",")
	}
	e, secret, err := w.svc.Create(ctx, w.project, webhook.EndpointInput{URL: *url, Description: *desc, EventTypes: types})
	if err != nil {
		return fmt.Errorf("add webhook: %w", userErr(err))
	}
	if w.asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]string{"endpoint_id": e.ID, "secret": secret})
	}
	fmt.Fprintf(c.stdout, "endpoint id: %s\nsecret:      %s\nThe secret is shown only now; verify deliveries with it (Standard Webhooks).\n", e.ID, secret)
	return nil
}

func runWebhookList(ctx context.Context, c *cli, args []string) error {
	w, done, err := openWebhookCmd(ctx, c, "list", "veil webhook list --project ID [--json] [storage flags]", args, false, nil)
	if err != nil {
		return err
	}
	defer done()
	es, err := w.st.db.ListWebhookEndpoints(ctx, w.project)
	if err != nil {
		return err
	}
	if w.asJSON {
		if es == nil {
			es = []*veil.WebhookEndpoint{}
		}
		return json.NewEncoder(c.stdout).Encode(es)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDPOINT ID\tSTATUS\tURL\tEVENTS")
	for _, e := range es {
		status := "enabled"
		if !e.Enabled {
			status = strings.TrimSpace("disabled " + e.DisabledReason)
		}
		types := "all"
		if len(e.EventTypes) > 0 {
			types = strings.Join(e.EventTypes, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.ID, status, e.URL, types)
	}
	return tw.Flush()
}

func runWebhookRotate(ctx context.Context, c *cli, args []string) error {
	var overlap *time.Duration
	w, done, err := openWebhookCmd(ctx, c, "rotate", "veil webhook rotate --project ID --endpoint ID [--overlap 24h] [--json] [storage flags]", args, true, func(fs flagSet) {
		overlap = fs.Duration("overlap", webhook.DefaultOverlap, "how long the old secret keeps signing too (0 = stop at once; at most 168h)")
	})
	if err != nil {
		return err
	}
	defer done()
	e, secret, err := w.svc.Rotate(ctx, w.project, w.endpoint, *overlap)
	if err != nil {
		return fmt.Errorf("rotate webhook secret: %w", userErr(err))
	}
	if w.asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]string{"endpoint_id": e.ID, "secret": secret})
	}
	fmt.Fprintf(c.stdout, "new secret: %s\n", secret)
	if e.PrevSecretUntil != nil {
		fmt.Fprintf(c.stdout, "The old secret also signs until %s.\n", e.PrevSecretUntil.UTC().Format(time.RFC3339))
	}
	return nil
}

func runWebhookTest(ctx context.Context, c *cli, args []string) error {
	w, done, err := openWebhookCmd(ctx, c, "test", "veil webhook test --project ID --endpoint ID [storage flags]", args, true, nil)
	if err != nil {
		return err
	}
	defer done()
	m, err := w.svc.SendTest(ctx, w.project, w.endpoint)
	if err != nil {
		return fmt.Errorf("test webhook: %w", userErr(err))
	}
	fmt.Fprintf(c.stdout, "queued %s (a running server delivers it; see `veil webhook log`)\n", m.ID)
	return nil
}

func runWebhookLog(ctx context.Context, c *cli, args []string) error {
	w, done, err := openWebhookCmd(ctx, c, "log", "veil webhook log --project ID --endpoint ID [--json] [storage flags]", args, true, nil)
	if err != nil {
		return err
	}
	defer done()
	if _, err := w.st.db.FindWebhookEndpoint(ctx, w.project, w.endpoint); err != nil {
		return userErr(err)
	}
	ms, err := w.st.db.ListWebhookMessages(ctx, w.project, w.endpoint, 50)
	if err != nil {
		return err
	}
	if w.asJSON {
		if ms == nil {
			ms = []*veil.WebhookMessage{}
		}
		return json.NewEncoder(c.stdout).Encode(ms)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE ID\tTYPE\tSTATUS\tATTEMPTS\tLAST\tCREATED")
	for _, m := range ms {
		last := m.LastError
		if m.LastStatus != 0 && last == "" {
			last = strconv.Itoa(m.LastStatus)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", m.ID, m.EventType, m.Status, m.Attempts, last, m.CreatedAt.Format("2006-01-02 15:04:05"))
	}
	return tw.Flush()
}

func runWebhookEnable(ctx context.Context, c *cli, args []string) error {
	w, done, err := openWebhookCmd(ctx, c, "enable", "veil webhook enable --project ID --endpoint ID [storage flags]", args, true, nil)
	if err != nil {
		return err
	}
	defer done()
	on := true
	if _, err := w.svc.Update(ctx, w.project, w.endpoint, webhook.EndpointInput{Enabled: &on}); err != nil {
		return fmt.Errorf("enable webhook: %w", userErr(err))
	}
	fmt.Fprintf(c.stdout, "enabled %s\n", w.endpoint)
	return nil
}

func runWebhookDelete(ctx context.Context, c *cli, args []string) error {
	w, done, err := openWebhookCmd(ctx, c, "delete", "veil webhook delete --project ID --endpoint ID [storage flags]", args, true, nil)
	if err != nil {
		return err
	}
	defer done()
	if err := w.st.db.DeleteWebhookEndpoint(ctx, w.project, w.endpoint); err != nil {
		return fmt.Errorf("delete webhook: %w", userErr(err))
	}
	fmt.Fprintf(c.stdout, "deleted %s\n", w.endpoint)
	return nil
}
