package chtest

import "testing"

// SkipIfShort skips a test that starts a server, runs node or builds the
// binary when go test runs with -short (the fast tier, make test-short).
// make test runs without -short, so CI runs every such test.
func SkipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow tier: starts a server, runs node or builds the binary (make test runs it)")
	}
}
