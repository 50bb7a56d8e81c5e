package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/veil-privacy/veil/internal/config"
	"github.com/veil-privacy/veil/internal/lifecycle"
)

// runRecompress does now what the server's hourly job does for packs older
// than --recompress-after: replay segments sealed with S2 at ingest are
// re-sealed with zstd. Useful before a backup, or with the job off.
func runRecompress(ctx context.Context, c *cli, args []string) error {
	cfg := config.Default()
	fs := newFlags(c, "recompress", "veil recompress [--older-than 1h] [--max-packs N] [--json] [storage flags]")
	cfg.BindStorage(fs)
	olderThan := fs.Duration("older-than", lifecycle.DefaultRecompressAfter, "only packs written at least this long ago (0: all, including those of sessions still recording)")
	maxPacks := fs.Int("max-packs", 0, "stop after rewriting this many packs (0: all)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := loadConfig(c, fs, &cfg, args, false); err != nil {
		return err
	}
	if *olderThan < 0 || *maxPacks < 0 {
		return usagef("--older-than and --max-packs must not be negative")
	}
	st, err := openStorage(ctx, &cfg, cfg.Logger(c.stderr), openOpts{blobs: true})
	if err != nil {
		return err
	}
	defer st.Close()
	svc := lifecycleService(st, nil)
	holder := cliHolder()
	// In steps of a few packs, so that progress shows on long runs.
	const step = 50
	total := &lifecycle.RecompressResult{}
	start := time.Now()
	for {
		n := step
		if *maxPacks > 0 {
			n = min(step, *maxPacks-total.Packs)
		}
		r, err := svc.Recompress(ctx, holder, *olderThan, n)
		if err != nil {
			return fmt.Errorf("recompress (after %d pack(s)): %w", total.Packs, err)
		}
		total.Packs += r.Packs
		total.Segments += r.Segments
		total.BytesBefore += r.BytesBefore
		total.BytesAfter += r.BytesAfter
		total.More = r.More
		if !r.More || (*maxPacks > 0 && total.Packs >= *maxPacks) {
			break
		}
		fmt.Fprintf(c.stderr, "veil: %d pack(s), %d segment(s) recompressed so far (%s)…\n", total.Packs, total.Segments, time.Since(start).Round(time.Second))
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(total)
	}
	saved := ""
	if total.BytesBefore > 0 {
		saved = fmt.Sprintf(": %d → %d bytes (%.0f %% smaller)", total.BytesBefore, total.BytesAfter,
			100*(1-float64(total.BytesAfter)/float64(total.BytesBefore)))
	}
	fmt.Fprintf(c.stdout, "recompressed %d segment(s) in %d pack(s)%s\n", total.Segments, total.Packs, saved)
	if total.More {
		fmt.Fprintln(c.stdout, "more packs are left: run it again, or let the server's hourly job go on")
	}
	return nil
}
