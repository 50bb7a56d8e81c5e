package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/veil-privacy/veil/internal/loadgen"
)

func runBench(ctx context.Context, c *cli, args []string) error {
	return dispatch(ctx, c, "veil bench", []command{
		{"ingest", "load-test an ingest endpoint (127.0.0.1 only by default)", runBenchIngest},
	}, args)
}

func runBenchIngest(ctx context.Context, c *cli, args []string) error {
	fs := newFlags(c, "ingest", "veil bench ingest --target URL --key KEY [--mode events|replay] [--duration 30s] [--concurrency N]")
	cfg := loadgen.Config{}
	fs.StringVar(&cfg.Target, "target", "http://127.0.0.1:8080", "base URL of the Veil server under test")
	fs.StringVar(&cfg.Key, "key", "", "server write key (veil_sk_…) of a project to send to (required)")
	fs.StringVar(&cfg.Mode, "mode", "events", "events (Segment batches) or replay (gzip rrweb segments)")
	fs.DurationVar(&cfg.Duration, "duration", defaultBenchDuration, "how long to send; the run stops by itself")
	fs.IntVar(&cfg.Concurrency, "concurrency", 16, "parallel senders")
	fs.IntVar(&cfg.Batch, "batch", 100, "events per batch request (events mode); 1 sends single calls to /v1/track")
	fs.IntVar(&cfg.EventSize, "event-size", 600, "approximate bytes per event (events mode)")
	fs.IntVar(&cfg.SegmentKB, "segment-kb", 32, "KB of rrweb JSON per replay segment (replay mode)")
	fs.IntVar(&cfg.Sessions, "sessions", loadgen.DefaultSessions, "sessions recording at once, 60 segments each (replay mode)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "requests per second over all senders, for latency at a given load (0 = as fast as they can)")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usagef("bench ingest: %v", err)
	}
	fmt.Fprintf(c.stderr, "veil: sending %s load to %s for %s with %d senders…\n", cfg.Mode, cfg.Target, cfg.Duration, cfg.Concurrency)
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(map[string]any{
			"mode": res.Mode, "seconds": res.Duration.Seconds(), "requests": res.Requests, "ok": res.OK, "errors": res.Errors,
			"events": res.Events, "wire_bytes": res.WireBytes, "decoded_bytes": res.DecodedBytes,
			"p50_ms": ms(res.P50), "p99_ms": ms(res.P99), "max_ms": ms(res.Max),
		})
	}
	fmt.Fprint(c.stdout, res.String())
	return nil
}

const defaultBenchDuration = 30 * time.Second

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }
