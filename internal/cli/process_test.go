package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
)

// TestMain lets the test binary act as the real CLI (SALESNAV_ETL_AS_CLI
// set), so tests can kill a real process, not cancel a context.
func TestMain(m *testing.M) {
	if os.Getenv("SALESNAV_ETL_AS_CLI") == "1" {
		Main(version, commit)
		return
	}
	os.Exit(m.Run())
}

// cliProcess starts the CLI as a child process with env.
func cliProcess(t *testing.T, env map[string]string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SALESNAV_ETL_AS_CLI=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// processSink is where a child process loads: Parquet or ClickHouse.
type processSink struct {
	name  string
	env   map[string]string
	state func(t *testing.T) load.StateStore
}

func processSinks(t *testing.T) []processSink {
	dir := t.TempDir()
	pq := processSink{name: "parquet", env: map[string]string{"SALESNAV_PARQUET_DIR": dir},
		state: func(t *testing.T) load.StateStore {
			s, err := load.OpenFileState(filepath.Join(dir, "_state.json"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}}
	srv := chtest.Start(t)
	t.Cleanup(srv.Close)
	ch := processSink{name: "clickhouse", env: map[string]string{"SALESNAV_SINK": "clickhouse", "SALESNAV_CLICKHOUSE_DSN": srv.DSN("killed"),
		"SALESNAV_PARQUET_DIR": t.TempDir()},
		state: func(t *testing.T) load.StateStore {
			sink, err := chsink.Open(context.Background(), chsink.Config{DSN: srv.DSN("killed")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sink.Close() })
			st, err := sink.State(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return st
		}}
	return []processSink{pq, ch}
}

func runEnv(fake *testkit.Fake, ps processSink) map[string]string {
	env := map[string]string{"SALESNAV_API_URL": fake.URL, "SALESNAV_ACCESS_TOKEN": fakeapi.DefaultToken,
		"SALESNAV_START": "2026-03-01", "SALESNAV_END": "2026-03-04", "SALESNAV_STREAMS": "activity",
		"SALESNAV_CONCURRENCY": "1", "SALESNAV_POLL_INTERVAL": "10ms", "SALESNAV_POLL_MAX_INTERVAL": "20ms"}
	for k, v := range ps.env {
		env[k] = v
	}
	return env
}

// waitInFlight waits until the state holds a job in flight.
func waitInFlight(t *testing.T, ps processSink) *load.Job {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ps.name != "parquet" || fileExists(ps.env["SALESNAV_PARQUET_DIR"]+"/_state.json") {
			if j, err := ps.state(t).InFlight(context.Background(), "activity", "urn:li:salesContract:1001"); err == nil && j != nil {
				return j
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no job in flight")
	return nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// Kill the process (SIGKILL) while a job is in flight; the next run
// resumes that job: no second job is created for the window.
func TestKilledWhileJobInFlight(t *testing.T) {
	for _, ps := range processSinks(t) {
		t.Run(ps.name, func(t *testing.T) {
			fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 40, Faults: fakeapi.Faults{StuckJobs: true}})
			env := runEnv(fake, ps)
			cmd, _ := cliProcess(t, env, "run")
			job := waitInFlight(t, ps)
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			fake.Server.SetFaults(fakeapi.Faults{})
			cmd, out := cliProcess(t, env, "run")
			if err := cmd.Wait(); err != nil {
				t.Fatalf("rerun: %v\n%s", err, out)
			}
			creates := 0
			for _, q := range fake.Requests() {
				if q.Contract == "urn:li:salesContract:1001" && q.StartAt.Time().Equal(job.Start) {
					creates++
				}
			}
			if creates != 1 {
				t.Errorf("%d jobs created for the window of job %d, want 1 (resumed)", creates, job.ID)
			}
			if !strings.Contains(out.String(), "resuming the job in flight") {
				t.Errorf("the rerun did not say it resumed:\n%s", out)
			}
			st := ps.state(t)
			if c, ok, _ := st.Cursor(context.Background(), "activity", "urn:li:salesContract:1001"); !ok || c.Format(time.DateOnly) != "2026-03-04" {
				t.Errorf("cursor %v %v", c, ok)
			}
		})
	}
}

// SIGTERM stops gracefully: exit 75 well within the grace period, the job
// in flight kept for the next run.
func TestSIGTERMStopsGracefully(t *testing.T) {
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 40, Faults: fakeapi.Faults{StuckJobs: true}})
	ps := processSinks(t)[0]
	env := runEnv(fake, ps)
	env["SALESNAV_GRACE_PERIOD"] = "10s"
	cmd, out := cliProcess(t, env, "run")
	waitInFlight(t, ps)
	began := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if code := testkit.ExitCode(err); code != ExitTemporary || time.Since(began) > 5*time.Second {
		t.Fatalf("exit %d after %v\n%s", code, time.Since(began), out)
	}
	if j, _ := ps.state(t).InFlight(context.Background(), "activity", "urn:li:salesContract:1001"); j == nil {
		t.Error("the job in flight was not kept")
	}
}

// A spent daily quota: exit 75, the log says when it resets.
func TestQuotaExitCode(t *testing.T) {
	fake := testkit.NewFake(t, fakeapi.Config{Faults: fakeapi.Faults{QuotaExhausted: true}})
	env := map[string]string{"SALESNAV_API_URL": fake.URL, "SALESNAV_ACCESS_TOKEN": fakeapi.DefaultToken,
		"SALESNAV_PARQUET_DIR": t.TempDir(), "SALESNAV_QUOTA_BUDGET": "200ms"}
	code, _, stderr := runCLI(t, env, "run")
	if code != ExitTemporary || !strings.Contains(stderr, "midnight UTC") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

func TestStateCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SALESNAV_PARQUET_DIR": dir, "SALESNAV_START": "2026-02-01", "SALESNAV_END": "2026-02-04"}
	if code, _, stderr := runCLI(t, env, "run", "--fake-api"); code != ExitOK {
		t.Fatalf("run: %d %s", code, stderr)
	}
	code, stdout, _ := runCLI(t, env, "state", "show")
	if code != ExitOK || strings.Count(stdout, "2026-02-04") != 6 || !strings.Contains(stdout, "urn:li:salesContract:1002") {
		t.Fatalf("state show: %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI(t, env, "state", "reset", "--stream", "activity", "--contract", "urn:li:salesContract:1001")
	if code != ExitOK || !strings.Contains(stdout, "reset 1 cursor") {
		t.Fatalf("state reset: %d %s", code, stdout)
	}
	code, stdout, _ = runCLI(t, env, "state", "show", "--json")
	if code != ExitOK || strings.Count(stdout, `"cursor"`) != 5 {
		t.Errorf("after reset: %s", stdout)
	}
	if code, _, stderr := runCLI(t, env, "state", "reset", "--stream", "nope"); code != ExitConfig || !strings.Contains(stderr, "--stream") {
		t.Errorf("bad stream: %d %s", code, stderr)
	}
	// A backfill leaves the cursors as they are.
	code, _, stderr := runCLI(t, env, "run", "--fake-api", "--from", "2026-01-20", "--to", "2026-01-25")
	if code != ExitOK {
		t.Fatalf("backfill: %d %s", code, stderr)
	}
	_, after, _ := runCLI(t, env, "state", "show", "--json")
	if after != stdout {
		t.Errorf("a backfill changed the state:\n%s\n%s", stdout, after)
	}
	if n := len(testkit.ReadDataset(t, dir, "activity").Rows); n == 0 {
		t.Error("no rows")
	}
	if code, _, stderr := runCLI(t, env, "run", "--fake-api", "--from", "2026-01-20"); code != ExitConfig || !strings.Contains(stderr, "--from and --to") {
		t.Errorf("--from alone: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, env, "run", "--fake-api", "--from", "2026-01-20", "--to", "20260125"); code != ExitConfig || !strings.Contains(stderr, "--to") {
		t.Errorf("bad --to: %d %s", code, stderr)
	}
	_ = fmt.Sprint
}
