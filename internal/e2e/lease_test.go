package e2e

import (
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/cli"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
)

// gatedFake is a fake API whose downloads wait until open is called: a
// run holding the output stays in the middle of its work, however slow
// or fast the machine, until the test lets it go on.
func gatedFake(t *testing.T) (fake *testkit.Fake, open func()) {
	now := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	fake = testkit.NewFake(t, fakeapi.Config{RowsPerDay: 20, Now: func() time.Time { return now }, URLTTL: 100 * 365 * 24 * time.Hour})
	gate := make(chan struct{})
	var once sync.Once
	open = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(open)
	fake.OnDownload(func() { <-gate })
	return fake, open
}

func leaseEnv(fake *testkit.Fake, dir string, extra ...string) map[string]string {
	env := map[string]string{"SALESNAV_API_URL": fake.URL, "SALESNAV_ACCESS_TOKEN": fakeapi.DefaultToken,
		"SALESNAV_START": "2026-03-01", "SALESNAV_END": "2026-03-09", "SALESNAV_STREAMS": "activity",
		"SALESNAV_POLL_INTERVAL": "5ms", "SALESNAV_LOG_FORMAT": "json", "SALESNAV_PARQUET_DIR": dir}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// await reads c's log until msg; the child ending first fails the test.
func await(t *testing.T, c *child, msg string) {
	t.Helper()
	for m := range c.log.ch {
		if m == msg {
			return
		}
	}
	t.Fatalf("the run ended (exit %d) before logging %q:\n%s", <-c.done, msg, strings.Join(c.log.lastLines(), "\n"))
}

// TestOneRunPerOutput: two runs of the real binary on one Parquet
// directory at once. The second stands aside with exit 75, naming the
// first's pid, and the first completes; with SALESNAV_LOCK_WAIT the second
// waits for the first, then completes; a holder killed with SIGKILL
// leaves the output free for the next run.
func TestOneRunPerOutput(t *testing.T) {
	realBinary(t)
	t.Run("stand aside, then wait", func(t *testing.T) {
		fake, open := gatedFake(t)
		dir := t.TempDir()
		holder := startCLI(t, leaseEnv(fake, dir))
		await(t, holder, "export job created") // it holds the output
		pid := strconv.Itoa(holder.cmd.Process.Pid)
		second := startCLI(t, leaseEnv(fake, dir))
		for m := range second.log.ch {
			switch m { // it went ahead, and would wait at the gate for ever
			case "export job created", "resuming the job in flight of a previous run", "export job completed":
				t.Fatalf("the second run went ahead while the first held the output (%s)", m)
			}
		}
		if code := second.wait(); code != cli.ExitTemporary {
			t.Fatalf("second run while the first holds the output: exit %d, want 75\n%s", code, strings.Join(second.log.lastLines(), "\n"))
		}
		if named := strings.Join(second.log.lastErrors(), "\n"); !strings.Contains(named, `"msg":"output in use by another run: standing aside, retry later"`) ||
			!strings.Contains(named, `"holder_pid":`+pid) {
			t.Errorf("the second run's log does not name the holder, pid %s:\n%s", pid, named)
		}
		waiter := startCLI(t, leaseEnv(fake, dir, "SALESNAV_LOCK_WAIT", "10m"))
		await(t, waiter, "waiting for the lease")
		open()
		if code := holder.wait(); code != cli.ExitOK {
			t.Fatalf("the first run: exit %d\n%s", code, strings.Join(holder.log.lastLines(), "\n"))
		}
		if code := waiter.wait(); code != cli.ExitOK {
			t.Fatalf("the run that waited: exit %d\n%s", code, strings.Join(waiter.log.lastLines(), "\n"))
		}
	})
	t.Run("killed holder", func(t *testing.T) {
		fake, open := gatedFake(t)
		dir := t.TempDir()
		holder := startCLI(t, leaseEnv(fake, dir))
		await(t, holder, "export job created")
		if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if code := holder.wait(); code != -1 {
			t.Fatalf("killed run: exit %d", code)
		}
		open()
		next := startCLI(t, leaseEnv(fake, dir))
		if code := next.wait(); code != cli.ExitOK {
			t.Fatalf("the run after a killed holder: exit %d\n%s", code, strings.Join(next.log.lastLines(), "\n"))
		}
	})
}
