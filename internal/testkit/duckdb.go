package testkit

import (
	"encoding/json"
	"testing"
)

// DuckDB runs each query in DuckDB (npm @duckdb/node-api, `make duckdb`)
// and returns each one's rows.
func DuckDB(t testing.TB, queries ...string) [][]map[string]any {
	t.Helper()
	lines := NodeTool(t, "duckdb", "@duckdb/node-api", "query.mjs", queries...)
	res := make([][]map[string]any, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &res[i]); err != nil {
			t.Fatalf("duckdb result %q: %v", l, err)
		}
	}
	return res
}

// ChDBResult is the outcome of one statement in chDB.
type ChDBResult struct {
	OK    bool   `json:"ok"`
	Out   string `json:"out"`
	Error string `json:"error"`
}

// ChDB runs each statement in one chDB session (a current ClickHouse,
// npm chdb, `make chdb`).
func ChDB(t testing.TB, stmts ...string) []ChDBResult {
	t.Helper()
	lines := NodeTool(t, "chdb", "chdb", "run.mjs", stmts...)
	res := make([]ChDBResult, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &res[i]); err != nil {
			t.Fatalf("chdb result %q: %v", l, err)
		}
	}
	return res
}
