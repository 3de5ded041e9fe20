// Package e2e holds the slow end-to-end suites on the built binary: crash
// episodes (SIGKILL) and a ClickHouse restart, the ClickHouse cluster, and
// sharded runs. They start their own servers and skip under -short; a
// package of their own, they run beside internal/cli's tests.
package e2e
