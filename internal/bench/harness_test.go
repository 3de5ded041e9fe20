// Package bench holds the end-to-end benchmark harness (`make bench`): the
// connector against DuckDB's and clickhouse-client's own CSV loaders, on the
// same export. It runs only with SALESNAV_BENCH=1.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// result is one measured loader.
type result struct {
	name    string
	wall    time.Duration
	cpu     time.Duration // user + system
	peakRSS int64         // bytes
	note    string
}

// measure runs cmd and returns its wall time and peak RSS (of the process
// itself, not of servers it talks to).
func measure(t *testing.T, name string, cmd *exec.Cmd) result {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, tail(out.String(), 3000))
	}
	wall := time.Since(began)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return result{name: name, wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), peakRSS: ru.Maxrss * 1024}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// The bench's fixed day, its poll interval (the fake completes a job on its
// second poll), and the fake's reporting contracts.
var (
	benchDay     = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	pollInterval = 10 * time.Millisecond
	contracts    = []string{"urn:li:salesContract:1001", "urn:li:salesContract:1002"}
)

// downloadDelays reads the fake's log: the longest time from a job's first
// COMPLETED answer to its download request, over the downloads after since.
func downloadDelays(t *testing.T, path string, since time.Time) (time.Duration, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var worst time.Duration
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			Time  time.Time `json:"time"`
			Msg   string    `json:"msg"`
			After int64     `json:"after_completed_us"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "download started" || line.Time.Before(since) {
			continue
		}
		n++
		worst = max(worst, time.Duration(line.After)*time.Microsecond)
	}
	return worst, n
}

// waitMerges waits until the server merges nothing, so that one load's
// merges do not slow the next measurement.
func waitMerges(t *testing.T, client func(string, io.Reader, ...string) *exec.Cmd) {
	t.Helper()
	for i := 0; i < 600; i++ {
		out, err := client("SELECT count() FROM system.merges", nil).Output()
		if err == nil && strings.TrimSpace(string(out)) == "0" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Log("merges still running after a minute")
}

// shape is one export the harness measures: rows over days (each day a
// partition of its own) for the fake's two reporting contracts.
type shape struct {
	name       string
	rows, days int
	// targets: the connector's wall time over DuckDB's (Parquet path) and
	// over clickhouse-client's (ClickHouse path); CPU over DuckDB's (0:
	// none).
	parquetWall, parquetCPU, chWall float64
}

// TestBenchHarness prints the tables of `make bench`, one per shape: one
// fixed day (ROWS, default 5M rows) and a multi-day window (MULTI_ROWS,
// default 2M rows, over MULTI_DAYS, default 20 days: a first run's 30-day
// window is of that kind). BENCH_SHAPES (one-day, multi-day) and
// BENCH_SINKS (parquet, clickhouse) narrow it, for quick iterations.
func TestBenchHarness(t *testing.T) {
	if os.Getenv("SALESNAV_BENCH") == "" {
		t.Skip("the benchmark harness runs with SALESNAV_BENCH=1 (make bench)")
	}
	shapes := []shape{
		{name: "one-day", rows: envInt("ROWS", 5_000_000), days: 1, parquetWall: 0.8, chWall: 1.2},
		{name: "multi-day", rows: envInt("MULTI_ROWS", 2_000_000), days: envInt("MULTI_DAYS", 20), parquetWall: 1.0, parquetCPU: 1.0, chWall: 0.8},
	}
	var out strings.Builder
	for _, sh := range shapes {
		if only := os.Getenv("BENCH_SHAPES"); only != "" && !slices.Contains(strings.Split(only, ","), sh.name) {
			continue
		}
		out.WriteString(benchShape(t, sh))
	}
	fmt.Println("\n" + out.String())
	if path := os.Getenv("BENCH_OUT"); path != "" {
		os.WriteFile(path, []byte(out.String()), 0o644)
	}
}

// benchShape measures the loaders on one shape and returns its table.
func benchShape(t *testing.T, sh shape) string {
	sinks := os.Getenv("BENCH_SINKS")
	want := func(sink string) bool { return sinks == "" || slices.Contains(strings.Split(sinks, ","), sink) }
	e := newExport(t, sh.rows, sh.days)
	bin, api, day, end, csvs, total, csvBytes, dir := e.bin, e.api, e.day, e.end, e.csvs, e.total, e.csvBytes, e.dir
	runEnv := func(extra ...string) []string {
		return append(os.Environ(), append([]string{"SALESNAV_API_URL=" + api, "SALESNAV_ACCESS_TOKEN=" + fakeapi.DefaultToken,
			"SALESNAV_STREAMS=activity", "SALESNAV_START=" + day.Format(time.DateOnly), "SALESNAV_END=" + end.Format(time.DateOnly),
			"SALESNAV_POLL_INTERVAL=" + pollInterval.String(), "SALESNAV_LOOKBACK=0d", "SALESNAV_LOG_FORMAT=json", "SALESNAV_PROGRESS_INTERVAL=0"}, extra...)...)
	}
	var results []result
	var b strings.Builder
	fmt.Fprintf(&b, "== %s: %d rows, %.0f MB of CSV, %d files, %d day(s) per contract; machine: %d CPUs\n\n",
		sh.name, total, float64(csvBytes)/1e6, len(csvs), sh.days, runtimeCPUs())
	profile := filepath.Join(dir, "cpu-parquet.prof")

	if want("parquet") {
		// 1. The connector into Parquet.
		pq := filepath.Join(dir, "pq")
		cmd := exec.Command(bin, "run", "--summary", filepath.Join(dir, "summary-pq.json"), "--cpuprofile", profile)
		cmd.Env = runEnv("SALESNAV_PARQUET_DIR=" + pq)
		results = append(results, measure(t, "salesnav-etl → Parquet (job, download, transform, zstd)", cmd))
		checkLoaded(t, filepath.Join(dir, "summary-pq.json"), total)
		if parts, _ := filepath.Glob(filepath.Join(pq, "activity", "*", "*", "*.parquet")); len(parts) > 0 {
			var size int64
			for _, p := range parts {
				if fi, err := os.Stat(p); err == nil {
					size += fi.Size()
				}
			}
			results[len(results)-1].note = fmt.Sprintf("%d files, %.1f bytes/row", len(parts), float64(size)/float64(total))
		}

		// 2. DuckDB's COPY of the same CSV into zstd Parquet.
		duck, err := filepath.Abs("../../tools/duckdb")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(duck, "node_modules", "@duckdb", "node-api")); err != nil {
			t.Fatal("DuckDB is missing: run make duckdb")
		}
		list := "['" + strings.Join(csvs, "','") + "']"
		out := filepath.Join(dir, "duck.parquet")
		copySQL := "COPY (SELECT * FROM read_csv(" + list + ", header=true, timestampformat='%m-%d-%Y %H:%M:%S', " +
			"columns={'activityId':'VARCHAR','activityType':'VARCHAR','createdAt':'TIMESTAMPTZ','seatId':'BIGINT','memberIdentityKey':'VARCHAR'})) " +
			"TO '" + out + "' (FORMAT parquet, COMPRESSION zstd)"
		cmd = exec.Command("node", "query.mjs", copySQL)
		cmd.Dir = duck
		r := measure(t, "DuckDB COPY read_csv → Parquet (zstd)", cmd)
		if fi, err := os.Stat(out); err == nil {
			r.note = fmt.Sprintf("1 file, %.1f bytes/row", float64(fi.Size())/float64(total))
		}
		results = append(results, r)
		cnt := exec.Command("node", "query.mjs", "SELECT count(*) AS n FROM '"+out+"'")
		cnt.Dir = duck
		if out, err := cnt.Output(); err != nil || !strings.Contains(string(out), fmt.Sprintf(`"n":"%d"`, total)) {
			t.Errorf("DuckDB wrote %s (%v), want %d rows", out, err, total)
		}
	}

	if want("clickhouse") {
		results = append(results, benchClickHouse(t, e, runEnv)...)
	}

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "loader\twall s\tCPU s\trows/s\tMB/s\tpeak RSS MB\t  note\t\n")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.0f\t%.1f\t%.0f\t  %s\t\n", r.name, r.wall.Seconds(), r.cpu.Seconds(), float64(total)/r.wall.Seconds(),
			float64(csvBytes)/1e6/r.wall.Seconds(), float64(r.peakRSS)/1e6, r.note)
	}
	tw.Flush()
	b.WriteString("\n")
	ratio := func(what string, a, c result, wall, cpu float64) {
		fmt.Fprintf(&b, "ratio %s, wall: %.2f (target ≤ %.1f)", what, a.wall.Seconds()/c.wall.Seconds(), wall)
		if cpu > 0 || c.cpu > 0 {
			fmt.Fprintf(&b, "; CPU: %.2f", a.cpu.Seconds()/c.cpu.Seconds())
			if cpu > 0 {
				fmt.Fprintf(&b, " (target ≤ %.1f)", cpu)
			}
		}
		fmt.Fprintf(&b, "; peak RSS %.0f MB (target ≤ 300)\n", float64(a.peakRSS)/1e6)
	}
	find := func(prefix string) (result, bool) {
		for _, r := range results {
			if strings.HasPrefix(r.name, prefix) {
				return r, true
			}
		}
		return result{}, false
	}
	if a, ok := find("salesnav-etl → Parquet"); ok {
		c, _ := find("DuckDB")
		ratio("connector/DuckDB (Parquet path)", a, c, sh.parquetWall, sh.parquetCPU)
	}
	if a, ok := find("salesnav-etl → ClickHouse"); ok {
		c, _ := find("clickhouse-client")
		ratio("connector/clickhouse-client (ClickHouse path; client process only)", a, c, sh.chWall, 0)
	}
	if d, n := downloadDelays(t, e.fakeLog, e.ready); n > 0 {
		fmt.Fprintf(&b, "completed job → download request: at most %s over %d downloads (poll interval %s)\n", d, n, pollInterval)
	}
	if files, _ := filepath.Glob(filepath.Join(e.cache, "*.csv")); len(files) != len(csvs) {
		t.Errorf("%d files in the fake's cache, want %d: a run regenerated its export", len(files), len(csvs))
	}
	// Where the connector's CPU goes on the Parquet path (the profiler
	// costs a percent or two).
	if want("parquet") {
		if out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=18", bin, profile).Output(); err == nil {
			fmt.Fprintf(&b, "\nCPU profile of the Parquet run (go tool pprof -top):\n%s", tail(string(out), 3000))
		}
	}
	b.WriteString("\n")
	for _, p := range csvs {
		os.Remove(p)
	}
	return b.String()
}

// benchClickHouse measures the connector into ClickHouse 18.16 and
// clickhouse-client's own CSV insert into an identical table.
func benchClickHouse(t *testing.T, e *export, runEnv func(...string) []string) []result {
	bin, day, end, csvs, total, dir := e.bin, e.day, e.end, e.csvs, e.total, e.dir
	t.Setenv("CI", "true") // a missing clickhouse-server fails the bench, never skips it
	ch := chtest.Start(t)
	defer ch.Close()
	client18 := func(query string, stdin io.Reader, settings ...string) *exec.Cmd {
		args := append([]string{"--host", "127.0.0.1", "--port", strconv.Itoa(ch.Port), "--user", chtest.User, "--password", chtest.Password}, settings...)
		c := exec.Command("clickhouse-client", append(args, "--query", query)...)
		c.Stdin = stdin
		return c
	}
	var results []result
	waitMerges(t, client18)
	cmd := exec.Command(bin, "run", "--summary", filepath.Join(dir, "summary-ch.json"))
	cmd.Env = runEnv("SALESNAV_SINK=clickhouse", "SALESNAV_CLICKHOUSE_DSN="+ch.DSN("bench"), "SALESNAV_PARQUET_DIR="+filepath.Join(dir, "chdir"))
	results = append(results, measure(t, "salesnav-etl → ClickHouse (job, download, transform, insert)", cmd))
	checkLoaded(t, filepath.Join(dir, "summary-ch.json"), total)
	// The very table the connector loads (its DDL, in another database),
	// fed through a Null table per contract whose materialized view types
	// createdAt (ClickHouse reads MM-DD-YYYY as DD-MM-YYYY, or not at all)
	// and adds the lineage, as the connector's transform does.
	ddl, err := chsink.StreamDDL("bench_cli", schema.Activity)
	if err != nil {
		t.Fatal(err)
	}
	stmts := append([]string{"CREATE DATABASE bench_cli"}, ddl...)
	for i, c := range contracts {
		in := fmt.Sprintf("bench_cli.activity_in_%d", i)
		stmts = append(stmts,
			"CREATE TABLE "+in+" (activityId String, activityType String, createdAt String, seatId Int64, memberIdentityKey Nullable(String)) ENGINE = Null",
			fmt.Sprintf("CREATE MATERIALIZED VIEW bench_cli.activity_mv_%d TO bench_cli.activity AS SELECT activityId, CAST(activityType AS LowCardinality(String)) AS activityType, "+
				"toDateTime(concat(substring(createdAt, 7, 4), '-', substring(createdAt, 1, 2), '-', substring(createdAt, 4, 2), ' ', substring(createdAt, 12, 8)), 'UTC') AS createdAt, "+
				"seatId, memberIdentityKey, '%s' AS _contract, toDateTime('%s', 'UTC') AS _window_start, toDateTime('%s', 'UTC') AS _window_end, "+
				"toInt64(1) AS _job_id, now() AS _extracted_at FROM %s", i, c, day.Format(time.DateTime), end.Add(-time.Second).Format(time.DateTime), in))
	}
	for _, q := range stmts {
		if out, err := client18(q, nil, "--allow_experimental_low_cardinality_type=1").CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", q, err, out)
		}
	}
	// One process for every file, as the connector loads them all.
	script := filepath.Join(dir, "insert.sh")
	var sh strings.Builder
	sh.WriteString("set -e\n")
	for i, p := range csvs { // csvs[i] is contracts[i]'s (newExport)
		fmt.Fprintf(&sh, "clickhouse-client --host 127.0.0.1 --port %d --user %s --password %s --query 'INSERT INTO bench_cli.activity_in_%d FORMAT CSVWithNames' < %s\n",
			ch.Port, chtest.User, chtest.Password, i, p)
	}
	os.WriteFile(script, []byte(sh.String()), 0o755)
	waitMerges(t, client18)
	r := measure(t, "clickhouse-client INSERT … FORMAT CSVWithNames", exec.Command("bash", script))
	r.note = "client process only"
	results = append(results, r)
	if out, err := client18("SELECT count() FROM bench_cli.activity", nil).Output(); err != nil || strings.TrimSpace(string(out)) != strconv.Itoa(total) {
		t.Errorf("clickhouse-client loaded %q rows (%v), want %d", out, err, total)
	}
	if out, err := client18("SELECT count() FROM bench_cli.activity WHERE createdAt < toDateTime('"+day.Format(time.DateTime)+"', 'UTC') OR createdAt >= toDateTime('"+end.Format(time.DateTime)+"', 'UTC')", nil).Output(); err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Errorf("clickhouse-client parsed %q dates outside the window (%v): MM-DD-YYYY read wrong", out, err)
	}
	return results
}

func runtimeCPUs() int {
	out, err := exec.Command("nproc").Output()
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

// checkLoaded reads a run summary and checks it loaded want activity rows.
func checkLoaded(t *testing.T, path string, want int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Status  string `json:"status"`
		Streams map[string]struct {
			Rows int64 `json:"rows"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(raw, &sum); err != nil || sum.Status != "complete" || sum.Streams["activity"].Rows != int64(want) {
		t.Fatalf("%s: status %s, %d rows, want %d", path, sum.Status, sum.Streams["activity"].Rows, want)
	}
}

// export is a fake API process serving one day of activity for both
// reporting contracts, with the files also on disk.
type export struct {
	cache, fakeLog string
	ready          time.Time // when the export was ready: later downloads are the connector's

	bin, api, dir string
	day, end      time.Time
	csvs          []string
	total         int
	csvBytes      int64
}

// newExport generates rows of activity over days days (from benchDay) for
// the fake's two reporting contracts: one file per contract, csvs[i]
// being contracts[i]'s.
func newExport(t *testing.T, rows, days int) *export {
	dir := t.TempDir()
	bin := filepath.Join(dir, "salesnav-etl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/salesnav-etl").CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}

	// The fake API in its own process, caching the files it generates: the
	// connector then downloads the very bytes DuckDB and ClickHouse read.
	addr := freeAddr(t)
	cache := filepath.Join(dir, "cache")
	os.MkdirAll(cache, 0o755)
	fake := exec.Command(bin, "fake-api", "--addr", addr, "--cache-dir", cache, "--rows-per-day", strconv.Itoa(rows/(2*days)), "--url-ttl", "6h")
	fakeLog := filepath.Join(dir, "fake.log")
	lf, err := os.Create(fakeLog)
	if err != nil {
		t.Fatal(err)
	}
	fake.Stderr = lf
	t.Cleanup(func() { lf.Close() })
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Process.Kill(); fake.Wait() })
	api := "http://" + addr + "/v2"
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i > 300 {
			t.Fatal("the fake API did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A fixed day: the fake's ±20% per contract-day is then the same on
	// every run, and so are the export's rows.
	day := benchDay
	end := day.AddDate(0, 0, days)

	// The same exports the connector will ask for, generated into the
	// fake's cache: its files are what DuckDB and clickhouse-client read.
	client, err := extract.New(extract.Config{BaseURL: api, Token: fakeapi.DefaultToken})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var csvs []string
	var csvBytes int64
	genStart := time.Now()
	for _, c := range contracts {
		job, err := client.CreateAnalyticsExport(ctx, extract.ActionActivity, extract.ExportRequest{Contract: c,
			StartAt: extract.Millis(day), EndAt: extract.Millis(end.Add(-time.Millisecond))})
		if err != nil {
			t.Fatal(err)
		}
		for !job.Status.Done() {
			time.Sleep(20 * time.Millisecond)
			if job, err = client.AnalyticsExport(ctx, c, job.ID); err != nil {
				t.Fatal(err)
			}
		}
		dl, err := client.Download(ctx, *job.DownloadURL)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, dl.Body)
		dl.Close()
		if err != nil {
			t.Fatal(err)
		}
		// The file just served is the newest in the cache.
		files, _ := filepath.Glob(filepath.Join(cache, "*.csv"))
		if len(files) != len(csvs)+1 {
			t.Fatalf("%d files in the fake's cache after %d downloads", len(files), len(csvs)+1)
		}
		for _, f := range files {
			if !slices.Contains(csvs, f) {
				csvs = append(csvs, f)
			}
		}
		csvBytes += n
	}
	// Counted streaming: a child's peak RSS (ru_maxrss) starts at this
	// process's at fork, so this process must stay small.
	total := 0
	for _, p := range csvs {
		n, err := countLines(p)
		if err != nil {
			t.Fatal(err)
		}
		total += n - 1
	}
	t.Logf("export: %d rows, %.0f MB in %d files (generated in %s)", total, float64(csvBytes)/1e6, len(csvs), time.Since(genStart).Round(time.Millisecond))

	return &export{bin: bin, api: api, dir: dir, day: day, end: end, csvs: csvs, total: total, csvBytes: csvBytes,
		cache: cache, fakeLog: fakeLog, ready: time.Now()}
}

// TestBenchFlatMemory runs the connector into Parquet on an export and on
// one ten times larger, and compares their peak RSS (make bench-flat; the
// target is within 1.3x). ROWS is the smaller size (default 4M rows, about
// 300 MB of CSV).
func TestBenchFlatMemory(t *testing.T) {
	if os.Getenv("SALESNAV_BENCH_FLAT") == "" {
		t.Skip("runs with SALESNAV_BENCH_FLAT=1 (make bench-flat)")
	}
	small := envInt("ROWS", 4_000_000)
	var b strings.Builder
	peaks := map[string][]int64{}
	for _, rows := range []int{small, 10 * small} {
		e := newExport(t, rows, 1)
		// With the default soft memory limit, as users run it, and without
		// one, which shows how the live heap itself grows.
		for _, limit := range []string{"auto", "off"} {
			cmd := exec.Command(e.bin, "run")
			cmd.Env = append(os.Environ(), "SALESNAV_API_URL="+e.api, "SALESNAV_ACCESS_TOKEN="+fakeapi.DefaultToken,
				"SALESNAV_STREAMS=activity", "SALESNAV_START="+e.day.Format(time.DateOnly), "SALESNAV_END="+e.end.Format(time.DateOnly),
				"SALESNAV_POLL_INTERVAL="+pollInterval.String(), "SALESNAV_LOOKBACK=0d", "SALESNAV_PROGRESS_INTERVAL=0",
				"SALESNAV_MEMORY_LIMIT="+limit, "SALESNAV_PARQUET_DIR="+filepath.Join(e.dir, "pq-"+limit))
			r := measure(t, limit, cmd)
			peaks[limit] = append(peaks[limit], r.peakRSS)
			fmt.Fprintf(&b, "salesnav-etl → Parquet, %d rows (%.0f MB of CSV), memory limit %s: %.1f s, peak RSS %.0f MB\n",
				e.total, float64(e.csvBytes)/1e6, limit, r.wall.Seconds(), float64(r.peakRSS)/1e6)
			os.RemoveAll(filepath.Join(e.dir, "pq-"+limit))
		}
		for _, p := range e.csvs {
			os.Remove(p)
		}
	}
	for _, limit := range []string{"auto", "off"} {
		fmt.Fprintf(&b, "peak RSS ratio, 10x the export, memory limit %s: %.2f (target ≤ 1.3)\n", limit, float64(peaks[limit][1])/float64(peaks[limit][0]))
	}
	fmt.Println("\n" + b.String())
}

// countLines counts the lines of a file without holding it.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	n := 0
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
