package testkit

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
)

// repoRoot finds the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// NodeTool runs tools/<tool>/<script> with node, each argument one query,
// and returns its output lines. The tool's npm package (pkg) is installed by
// `make <tool>`; without it the test is skipped on a developer's machine and
// fails in CI (CI set), where .ci/run installs it.
func NodeTool(t testing.TB, tool, pkg, script string, args ...string) []string {
	t.Helper()
	chtest.SkipIfShort(t)
	dir := filepath.Join(repoRoot(t), "tools", tool)
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(pkg)))
	if err != nil || modErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (node: %v, package: %v): run make %s", pkg, err, modErr, tool)
		}
		t.Skipf("%s is not installed: run make %s", pkg, tool)
	}
	cmd := exec.Command(node, append([]string{filepath.Join(dir, script)}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(args) {
		t.Fatalf("%s printed %d results for %d queries:\n%s", tool, len(lines), len(args), out)
	}
	return lines
}
