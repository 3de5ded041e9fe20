// Package promtest runs Debian's Prometheus tools for tests: a private
// Pushgateway (prometheus-pushgateway) on a loopback port, read back
// through its API, and promtool on rule files and expressions. It also
// reads a Grafana dashboard's queries and the metric names of a PromQL
// expression, without I/O.
package promtest

import (
	"os/exec"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
)

// Binary finds one of Debian's Prometheus tools (promtool, from package
// prometheus; prometheus-pushgateway) on PATH or in /usr/bin. Under
// go test -short the test is skipped; otherwise a missing tool fails it
// (make prometheus installs both).
func Binary(t testing.TB, name string) string {
	t.Helper()
	chtest.SkipIfShort(t)
	for _, p := range []string{name, "/usr/bin/" + name} {
		if b, err := exec.LookPath(p); err == nil {
			return b
		}
	}
	t.Fatalf("%s is not installed: make prometheus (apt-get install -y prometheus prometheus-pushgateway)", name)
	return ""
}
