package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/veil-privacy/veil/internal/audit"
	"github.com/veil-privacy/veil/internal/lifecycle"
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

// startLifecycle runs the retention and compaction jobs in the background
// until ctx ends. Every node runs them; leases make one node at a time do
// the work.
func startLifecycle(ctx context.Context, st *storage, reg prometheus.Registerer, log *slog.Logger) {
	host, _ := os.Hostname()
	job := &lifecycle.Job{Service: lifecycleService(st, reg), Holder: host + "/" + time.Now().Format(time.RFC3339Nano), Interval: time.Hour}
	go func() {
		if err := job.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("lifecycle jobs stopped", "err", err)
		}
	}()
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
