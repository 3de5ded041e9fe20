package testkit

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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

// DuckDB runs each query in DuckDB (the npm package @duckdb/node-api,
// installed by `make duckdb` into tools/duckdb) and returns each one's rows.
// Without the package the test is skipped on a developer's machine and
// fails in CI (CI set), where .ci/run installs it.
func DuckDB(t testing.TB, queries ...string) [][]map[string]any {
	t.Helper()
	tool := filepath.Join(repoRoot(t), "tools", "duckdb")
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(tool, "node_modules", "@duckdb", "node-api"))
	if err != nil || modErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("DuckDB is not installed (node: %v, package: %v): run make duckdb", err, modErr)
		}
		t.Skip("DuckDB is not installed: run make duckdb")
	}
	cmd := exec.Command(node, append([]string{filepath.Join(tool, "query.mjs")}, queries...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(queries) {
		t.Fatalf("duckdb printed %d results for %d queries:\n%s", len(lines), len(queries), out)
	}
	res := make([][]map[string]any, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &res[i]); err != nil {
			t.Fatalf("duckdb result %q: %v", l, err)
		}
	}
	return res
}
