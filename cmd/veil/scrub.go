package main

import "context"

func runScrub(ctx context.Context, c *cli, args []string) error {
	return usagef("scrub: not available in this build yet")
}
