package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/veil-privacy/veil/internal/events"
	"github.com/veil-privacy/veil/internal/ingest"
	"github.com/veil-privacy/veil/internal/scrub"
	"github.com/veil-privacy/veil/internal/scrub/scrubmetrics"
	"github.com/veil-privacy/veil/internal/server"
	"github.com/veil-privacy/veil/internal/wal"
)

// ingestRuntime is the running ingest path: handlers, log and packer.
type ingestRuntime struct {
	log       *wal.Log
	packer    *ingest.Packer
	done      chan error
	cancelRun context.CancelFunc
}

// startIngest opens this node's write-ahead log, mounts the ingest routes
// and starts the packer. Records left in the log by a crash are packed by
// the first round.
func startIngest(ctx context.Context, st *storage, srv *server.Server, reg prometheus.Registerer, log *slog.Logger) (*ingestRuntime, error) {
	dir := st.cfg.WALPath()
	metrics := ingest.NewMetrics(reg)
	wl, err := wal.Open(dir, wal.Options{SegmentSize: int64(st.cfg.WALSegmentMB) << 20, Logger: log.With("component", "wal"),
		Observe: metrics.ObserveWALCommit})
	if err != nil {
		return nil, fmt.Errorf("open write-ahead log %s: %w", dir, err)
	}
	nodeID, err := loadNodeID(filepath.Join(dir, "node-id"))
	if err != nil {
		wl.Close()
		return nil, err
	}
	scrubber, err := scrub.New(ingest.DefaultScrubRules())
	if err != nil {
		wl.Close()
		return nil, err
	}
	h := ingest.New(ingest.Options{
		Store:        st.db,
		Master:       st.master,
		Log:          wl,
		Blobs:        st.blobs,
		Scrubber:     scrubber,
		Settings:     st.projectSettings(), // per-project rules, cached (ingest/rules.go)
		Dedup:        events.NewDedup(events.DefaultDedupWindow, time.Now),
		Logger:       log.With("component", "ingest"),
		RatePerKey:   st.cfg.RatePerKey,
		RatePerIP:    st.cfg.RatePerIP,
		ZstdSegments: st.cfg.SegmentCodec == "zstd",
		Metrics:      metrics,
		ScrubMetrics: scrubmetrics.New(reg),
	})
	if err := h.RestoreDedup(ctx, wl); err != nil {
		log.Warn("could not restore message-id deduplication from stored data", "err", err)
	}
	h.Register(srv)
	rt := &ingestRuntime{log: wl, packer: h.NewPacker(wl, st.blobs, nodeID), done: make(chan error, 1)}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rt.cancelRun = cancel
	go func() { rt.done <- rt.packer.Run(runCtx) }()
	return rt, nil
}

// stop runs the packer's last round and closes the log. Call after the HTTP
// server has finished its in-flight requests.
func (rt *ingestRuntime) stop() error {
	rt.cancelRun()
	err := <-rt.done
	return errors.Join(err, rt.log.Close())
}

// loadNodeID returns this node's id, kept beside its log: checkpoints in
// the shared store are per node, because each node has its own log.
func loadNodeID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read node id %s: %w", path, err)
	}
	id := "node_" + strings.ToLower(rand.Text())
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write node id %s: %w", path, err)
	}
	return id, nil
}
