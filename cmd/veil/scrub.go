package main

import (
	"context"

	"github.com/veil-privacy/veil/internal/scrub/scrubcli"
)

// runScrub handles `veil scrub`: scrub stdin to stdout with the built-in or
// given rules, per-detector counts on stderr.
func runScrub(ctx context.Context, c *cli, args []string) error {
	return scrubcli.Run(args, c.stdin, c.stdout, c.stderr)
}
