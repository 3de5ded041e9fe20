package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), args, envconfig.MapLookuper(env), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestBadConfigExits2NamingEveryVariable(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCLI(t, map[string]string{
		"SALESNAV_START":            "2026-13-01",
		"SALESNAV_END":              "yesterday",
		"SALESNAV_MAX_REJECT_RATIO": "abc",
		"SALESNAV_STREAMS":          "seat,bogus",
		"SALESNAV_API_URL":          "ftp://x",
		"SALESNAV_SINK":             "csv",
		"SALESNAV_CONCURRENCY":      "0",
		"SALESNAV_POLL_INTERVAL":    "soon",
		"SALESNAV_PARQUET_DIR":      dir,
	}, "run")
	if code != ExitConfig {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitConfig, stderr)
	}
	for _, v := range []string{"SALESNAV_START", "SALESNAV_END", "SALESNAV_MAX_REJECT_RATIO", "SALESNAV_STREAMS: unknown stream \"bogus\"",
		"SALESNAV_API_URL", "SALESNAV_SINK", "SALESNAV_CONCURRENCY", "SALESNAV_POLL_INTERVAL", "SALESNAV_ACCESS_TOKEN"} {
		if !strings.Contains(stderr, v) {
			t.Errorf("stderr does not name %s:\n%s", v, stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a config error wrote %d entries", len(entries))
	}
}

func TestFlagErrorNamesTheFlag(t *testing.T) {
	code, _, stderr := runCLI(t, map[string]string{"SALESNAV_ACCESS_TOKEN": "x"}, "run", "--streams", "nope")
	if code != ExitConfig || !strings.Contains(stderr, "--streams") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	code, _, stderr = runCLI(t, nil, "run", "--no-such-flag")
	if code != ExitConfig || !strings.Contains(stderr, "no-such-flag") {
		t.Fatalf("unknown flag: exit %d, stderr %s", code, stderr)
	}
}

func TestStartNotBeforeEnd(t *testing.T) {
	code, _, stderr := runCLI(t, map[string]string{"SALESNAV_ACCESS_TOKEN": "x", "SALESNAV_START": "2026-03-05", "SALESNAV_END": "2026-03-05"}, "run")
	if code != ExitConfig || !strings.Contains(stderr, "SALESNAV_START: 2026-03-05 is not before the end") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
}

func TestRunWithEmbeddedFakeAPI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	summary := filepath.Join(dir, "summary.json")
	env := map[string]string{"SALESNAV_PARQUET_DIR": out, "SALESNAV_START": "2026-02-01", "SALESNAV_END": "2026-02-08"}
	code, stdout, stderr := runCLI(t, env, "run", "--fake-api", "--summary", summary)
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "run complete") || !strings.Contains(stdout, "duckdb -c") || !strings.Contains(stdout, "pd.read_parquet") {
		t.Errorf("stdout lacks the summary or the read hints:\n%s", stdout)
	}
	var sum pipeline.Summary
	raw, err := os.ReadFile(summary)
	if err != nil || json.Unmarshal(raw, &sum) != nil {
		t.Fatalf("summary file: %v %s", err, raw)
	}
	for _, s := range []string{"seat", "activity", "activity_outcome"} {
		ds := testkit.ReadDataset(t, out, s)
		if len(ds.Rows) == 0 || int64(len(ds.Rows)) != sum.Streams[s].Rows {
			t.Errorf("%s: %d rows on disk, summary says %d", s, len(ds.Rows), sum.Streams[s].Rows)
		}
	}
	// Logs are JSON lines with structured keys, and never the token.
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
	}
	if !strings.Contains(stderr, `"stream":"activity"`) || !strings.Contains(stderr, `"job":`) {
		t.Errorf("logs lack stream/job keys")
	}
	if strings.Contains(stderr+stdout, "fake-token") {
		t.Error("the token appears in the output")
	}
	// A second run has nothing to do.
	before := testkit.ReadDataset(t, out, "activity")
	code, stdout, _ = runCLI(t, env, "run", "--fake-api")
	after := testkit.ReadDataset(t, out, "activity")
	if code != ExitOK || len(after.Rows) != len(before.Rows) || !strings.Contains(stdout, "activity        0") {
		t.Errorf("re-run: exit %d, rows %d → %d\n%s", code, len(before.Rows), len(after.Rows), stdout)
	}
}

func TestDefaultEndIsYesterday(t *testing.T) {
	e, err := LoadEnv(context.Background(), envconfig.MapLookuper(map[string]string{"SALESNAV_ACCESS_TOKEN": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)
	cfg, err := e.Resolve(now, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Pipeline.End.Format(time.DateOnly); got != "2026-11-26" {
		t.Errorf("default end %s, want 2026-11-26 (exclusive: data through 11-25)", got)
	}
	if got := cfg.Pipeline.Start.Format(time.DateOnly); got != "2026-10-27" {
		t.Errorf("default start %s, want 30 days before the end", got)
	}
	if cfg.StatePath != filepath.Join("out", "_state.json") || cfg.Pipeline.RejectsDir != filepath.Join("out", "_rejects") {
		t.Errorf("state %s, rejects %s", cfg.StatePath, cfg.Pipeline.RejectsDir)
	}
}
