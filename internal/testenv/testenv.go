// Package testenv starts the real components Veil's tests run against
// (Postgres, an S3-compatible server, …) on 127.0.0.1 with random ports, and
// stops them when the tests end.
//
// A component that cannot be found or started makes a test skip with a loud
// message on a developer machine; under CI=true it fails the test instead, so
// CI never passes by silently testing less.
package testenv

import (
	"net"
	"os"
	"strconv"
	"testing"
)

// InCI reports whether the tests run in CI (CI=true), where a missing
// component is a failure, not a skip.
func InCI() bool {
	v, _ := strconv.ParseBool(os.Getenv("CI"))
	return v
}

// Missing reports that component is unavailable for the reason why: it fails
// tb under CI=true and skips it otherwise.
func Missing(tb testing.TB, component, why string) {
	tb.Helper()
	if InCI() {
		tb.Fatalf("REQUIRED COMPONENT MISSING: %s: %s (CI=true: not skipping; run `make deps`)", component, why)
	}
	tb.Skipf("SKIPPING: component %s unavailable: %s (run `make deps`; under CI=true this fails)", component, why)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// There is a small race between closing the probe listener and the caller
// binding it; components are started with retries where that matters.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
