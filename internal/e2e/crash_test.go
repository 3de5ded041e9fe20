package e2e

// Issue 7: the crash suite. The real binary (this test binary acting as
// the CLI) is killed with SIGKILL at random moments, then run again, until
// a run completes; the dataset must then equal a run that was never
// killed, with no partial file visible to Parquet readers and no duplicate
// row in ClickHouse's views.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/internal/cli"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
)

var crashStreams = []string{"contracts", "seat", "activity", "activity_outcome", "crm_validation", "profile_associations"}

// crashEpisodes is how many datasets each sink builds under kills:
// SALESNAV_CRASH_EPISODES (make chaos), else 5.
func crashEpisodes(t *testing.T) int {
	if v := os.Getenv("SALESNAV_CRASH_EPISODES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SALESNAV_CRASH_EPISODES=%q: want a count", v)
		}
		return n
	}
	return 5
}

// crashRig is a fake API with a fixed clock (so CRM exports end where a
// clean run's did) and the environment of the runs.
type crashRig struct {
	fake *testkit.Fake
	env  map[string]string
}

func newCrashRig(t *testing.T) *crashRig {
	now := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 300, Now: func() time.Time { return now },
		URLTTL: 100 * 365 * 24 * time.Hour})
	return &crashRig{fake: fake, env: map[string]string{
		"SALESNAV_API_URL": fake.URL, "SALESNAV_ACCESS_TOKEN": fakeapi.DefaultToken,
		"SALESNAV_START": "2026-02-20", "SALESNAV_END": "2026-03-09", "SALESNAV_STREAMS": strings.Join(crashStreams, ","),
		"SALESNAV_CRM_INSTANCES": "urn:li:crmInstance:(SFDC,00D5e000000abc) urn:li:crmInstance:(DYNAMICS,org-2)",
		"SALESNAV_CONCURRENCY":   "2", "SALESNAV_POLL_INTERVAL": "5ms", "SALESNAV_POLL_MAX_INTERVAL": "20ms",
		"SALESNAV_LOG_FORMAT": "json", "SALESNAV_BATCH_SIZE": "2000",
	}}
}

// with returns the rig's environment plus extra.
func (r *crashRig) with(extra map[string]string) map[string]string {
	env := map[string]string{}
	for k, v := range r.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// logWatcher reads a child's JSON log lines and reports each message.
type logWatcher struct {
	mu     sync.Mutex
	last   string
	seen   map[string]int
	errors []string // the last WARN and ERROR lines, whole
	lines  []string // the last lines
	ch     chan string
}

// lastLines returns the last lines of the log.
func (w *logWatcher) lastLines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.lines)
}

// lastErrors returns the last WARN and ERROR lines of the log.
func (w *logWatcher) lastErrors() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.errors)
}

func watch(r io.Reader) *logWatcher {
	w := &logWatcher{seen: map[string]int{}, ch: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		defer io.Copy(io.Discard, r) // a line too long for the scanner must not stall the child
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			if len(w.lines) > 40 {
				w.lines = w.lines[1:]
			}
			w.mu.Unlock()
			var line struct{ Msg, Level string }
			if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg == "" {
				continue
			}
			w.mu.Lock()
			w.last = line.Msg
			if line.Level == "ERROR" || line.Level == "WARN" {
				w.errors = append(w.errors, sc.Text())
				if len(w.errors) > 20 {
					w.errors = w.errors[1:]
				}
			}
			w.seen[line.Msg]++
			w.mu.Unlock()
			select {
			case w.ch <- line.Msg:
			default:
			}
		}
		close(w.ch)
	}()
	return w
}

// count is how many lines with message msg were logged so far.
func (w *logWatcher) count(msg string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[msg]
}

func (w *logWatcher) lastMsg() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// child is a started CLI: its log watched, its exit code on done.
type child struct {
	cmd  *exec.Cmd
	log  *logWatcher
	done chan int
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// realBinary builds the CLI once, as a user builds it (no race detector,
// no test harness), for the suites that kill it.
func realBinary(t *testing.T) string {
	t.Helper()
	chtest.SkipIfShort(t)
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "salesnav-etl-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "salesnav-etl")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/salesnav-etl").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// startCLI starts the real binary's run command with env, its stderr (the
// JSON log) watched.
func startCLI(t *testing.T, env map[string]string) *child {
	t.Helper()
	return startCLIArgs(t, env, "run")
}

// startCLIArgs is startCLI with other arguments.
func startCLIArgs(t *testing.T, env map[string]string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(realBinary(t), args...)
	// The developer's own SALESNAV_* variables must not reach the child.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SALESNAV_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout = io.Discard
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, log: watch(pr), done: make(chan int, 1)}
	t.Cleanup(func() { cmd.Process.Kill() }) // a test that fails early leaves no child behind
	go func() {
		err := cmd.Wait()
		pw.Close()
		c.done <- testkit.ExitCode(err)
	}()
	return c
}

// wait waits for the child to end and returns its exit code (-1 when it
// was killed).
func (c *child) wait() int {
	for range c.log.ch {
	}
	return <-c.done
}

// killPoints are the log lines after which a kill is aimed, a random
// delay (up to 150 ms) later: after a job is created, the kill falls in
// polling; after one completed, in downloading, transforming, writing or
// inserting, moving the window in, or saving state.
var killPoints = []string{"export job created", "export job completed", "CRM validation export completed", "window loaded",
	"export loaded", "looking up profile associations", "dimension loaded"}

// crashRun runs the CLI once and kills it: after a random delay below
// span from its first log line, or a random delay after the first or
// second line of a random kill point.
// It reports the last log line before the kill ("" when the run ended by
// itself first, with its exit code).
func crashRun(t *testing.T, env map[string]string, rng *rand.Rand, span time.Duration) (phase string, exit int) {
	c := startCLI(t, env)
	w := c.log
	var timer <-chan time.Time
	var point string
	nth := 1 + rng.IntN(2)
	// A random time from the first log line (the process is up); for a
	// third of the runs, a kill point instead, with a later time as a
	// fallback should the point not come.
	delay := time.Duration(rng.Int64N(int64(span)))
	if rng.IntN(3) == 0 {
		point = killPoints[rng.IntN(len(killPoints))]
		delay += span
	}
	started := false
	for {
		select {
		case msg, ok := <-w.ch:
			if !ok {
				return "", c.wait()
			}
			if !started {
				started = true
				timer = time.After(delay)
			}
			if point != "" && msg == point {
				if nth--; nth == 0 {
					timer = time.After(time.Duration(rng.Int64N(int64(150 * time.Millisecond))))
				}
			}
			continue
		case <-timer:
		}
		phase = w.lastMsg()
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			// It had ended by itself.
			return "", c.wait()
		}
		if code := c.wait(); code != -1 {
			return "", code // it ended before the signal landed
		}
		return "after " + strconv.Quote(phase), -1
	}
}

// cliTarget is a new, empty output of the CLI: the environment that
// points a run at it, a reader of its rows (as testkit's Targets read
// them), and its Parquet directory ("" for ClickHouse).
type cliTarget struct {
	env  map[string]string
	rows func(t *testing.T, stream string) []string
	dir  string
}

func parquetCLITarget(t *testing.T) cliTarget {
	dir := t.TempDir()
	return cliTarget{env: map[string]string{"SALESNAV_PARQUET_DIR": dir}, dir: dir,
		rows: func(t *testing.T, st string) []string { return testkit.ParquetRows(t, dir, st) }}
}

// clickhouseCLITarget is the database of dsn (read through its views).
func clickhouseCLITarget(t *testing.T, dsn string) cliTarget {
	var tg *testkit.Target
	return cliTarget{env: map[string]string{"SALESNAV_SINK": "clickhouse", "SALESNAV_CLICKHOUSE_DSN": dsn, "SALESNAV_PARQUET_DIR": t.TempDir()},
		rows: func(t *testing.T, st string) []string {
			if tg == nil {
				tg = testkit.ClickHouseTarget(t, dsn)
			}
			return tg.Rows(t, st)
		}}
}

// crashSink is where the runs load, read back for comparison.
type crashSink struct {
	name string
	// fresh returns the environment of a new, empty target and its reader.
	fresh func(t *testing.T) (map[string]string, func(t *testing.T, stream string) []string, string)
}

// TestCrashSIGKILL: episodes of runs killed at random moments, each
// episode ending with runs until one completes; the dataset then equals a
// clean run's in every stream.
func TestCrashSIGKILL(t *testing.T) {
	realBinary(t) // built before any run is timed
	ch := chtest.Start(t)
	t.Cleanup(ch.Close)
	var dbs int
	sinks := []crashSink{
		{"parquet", func(t *testing.T) (map[string]string, func(*testing.T, string) []string, string) {
			tg := parquetCLITarget(t)
			return tg.env, tg.rows, tg.dir
		}},
		{"clickhouse", func(t *testing.T) (map[string]string, func(*testing.T, string) []string, string) {
			dbs++
			tg := clickhouseCLITarget(t, ch.DSN(fmt.Sprintf("crash_%d", dbs)))
			return tg.env, tg.rows, tg.dir
		}},
	}
	episodes := crashEpisodes(t)
	for _, cs := range sinks {
		t.Run(cs.name, func(t *testing.T) {
			rig := newCrashRig(t)
			env, rows, _ := cs.fresh(t)
			began := time.Now()
			if code := startCLI(t, rig.with(env)).wait(); code != cli.ExitOK {
				t.Fatalf("clean run: exit %d", code)
			}
			span := time.Since(began)
			want := map[string][]string{}
			for _, st := range crashStreams {
				if want[st] = testkit.Stripped(rows(t, st)); len(want[st]) == 0 {
					t.Fatalf("%s: the clean run loaded nothing", st)
				}
			}
			kills, phases := 0, map[string]int{}
			for ep := range episodes {
				rng := rand.New(rand.NewPCG(uint64(ep), 7))
				env, rows, dir := cs.fresh(t)
				env = rig.with(env)
				runs := 0
				for {
					runs++
					var phase string
					var code int
					if runs <= 6 {
						// A resumed run has less left to do: aim earlier.
						phase, code = crashRun(t, env, rng, span/time.Duration(runs))
					} else {
						c := startCLI(t, env)
						if code = c.wait(); code != cli.ExitOK && runs >= 10 {
							t.Fatalf("episode %d: run %d after the kills exits %d:\n%s\nlast lines:\n%s", ep, runs, code, strings.Join(c.log.lastErrors(), "\n"), strings.Join(c.log.lastLines(), "\n"))
						}
					}
					if phase != "" {
						kills++
						phases[phase]++
						if dir != "" {
							checkWholeFiles(t, dir)
						}
						continue
					}
					if code == cli.ExitOK {
						break
					}
				}
				for _, st := range crashStreams {
					if got := testkit.Stripped(rows(t, st)); !slices.Equal(got, want[st]) {
						t.Errorf("episode %d, %s: %d rows (%d distinct), a clean run loads %d", ep, st, len(got),
							len(slices.Compact(slices.Clone(got))), len(want[st]))
					}
				}
				if dir != "" && ep == 0 {
					duckDBSeesWholeFiles(t, dir, want)
				}
			}
			t.Logf("%d kills over %d episodes; the last log line before each: %v", kills, episodes, phases)
			if kills < episodes {
				t.Errorf("only %d kills landed before the runs ended", kills)
			}
		})
	}
}

// checkWholeFiles opens every *.parquet file below dir: each must be a
// whole Parquet file (a partial one is never given that name).
func checkWholeFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return nil
		}
		r, err := file.OpenParquetFile(p, false)
		if err != nil {
			t.Errorf("%s after a kill: %v", p, err)
			return nil
		}
		r.Close()
		return nil
	})
}

// duckDBSeesWholeFiles reads each stream's files with DuckDB's glob
// **/*.parquet: it must read exactly the clean run's rows (a partial or
// leftover file would fail the read or add rows).
func duckDBSeesWholeFiles(t *testing.T, dir string, want map[string][]string) {
	t.Helper()
	var qs []string
	for _, st := range crashStreams {
		qs = append(qs, "SELECT count(*) AS n FROM read_parquet('"+filepath.ToSlash(filepath.Join(dir, st))+"/**/*.parquet')")
	}
	res := testkit.DuckDB(t, qs...)
	for i, st := range crashStreams {
		if got := fmt.Sprint(res[i][0]["n"]); got != strconv.Itoa(len(want[st])) {
			t.Errorf("DuckDB reads %s rows of %s, want %d", got, st, len(want[st]))
		}
	}
}

// TestClickHouseRestartedMidLoad: ClickHouse is stopped (SIGTERM, then
// SIGKILL if an open insert holds it) and started again while a run is
// loading; that run fails, the next ones complete, and the dataset equals a clean run's, with no duplicate.
func TestClickHouseRestartedMidLoad(t *testing.T) {
	ch := chtest.Start(t) // its own server: this test stops it
	t.Cleanup(ch.Close)
	rig := newCrashRig(t)
	chEnv := func(db string) map[string]string {
		return rig.with(map[string]string{"SALESNAV_SINK": "clickhouse", "SALESNAV_CLICKHOUSE_DSN": ch.DSN(db), "SALESNAV_PARQUET_DIR": t.TempDir()})
	}
	if code := startCLI(t, chEnv("clean")).wait(); code != cli.ExitOK {
		t.Fatalf("clean run: exit %d", code)
	}
	want := map[string][]string{}
	clean := testkit.ClickHouseTarget(t, ch.DSN("clean"))
	for _, st := range crashStreams {
		want[st] = testkit.Stripped(clean.Rows(t, st))
	}
	c := startCLI(t, chEnv("restarted"))
	restarted := false
	for msg := range c.log.ch {
		if msg == "export job completed" && !restarted {
			restarted = true
			time.Sleep(20 * time.Millisecond) // into the download and insert
			ch.Stop()
			time.Sleep(300 * time.Millisecond)
			if err := ch.Restart(); err != nil {
				t.Fatal(err)
			}
		}
	}
	first := <-c.done
	if !restarted || first == cli.ExitOK {
		t.Fatalf("the stop did not hit the load (restarted %v, exit %d)", restarted, first)
	}
	runs := 1
	for code := first; code != cli.ExitOK; runs++ {
		if runs > 5 {
			t.Fatalf("no complete run after the restart in %d", runs)
		}
		code = startCLI(t, chEnv("restarted")).wait()
	}
	t.Logf("the run during the restart exited %d; complete after %d run(s)", first, runs)
	got := testkit.ClickHouseTarget(t, ch.DSN("restarted"))
	for _, st := range crashStreams {
		if rows := testkit.Stripped(got.Rows(t, st)); !slices.Equal(rows, want[st]) {
			t.Errorf("%s: %d rows (%d distinct), a clean run loads %d", st, len(rows), len(slices.Compact(slices.Clone(rows))), len(want[st]))
		}
	}
}
