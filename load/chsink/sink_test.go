package chsink_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

var reporting = []string{"urn:li:salesContract:1001", "urn:li:salesContract:1002"}

// One server for the package; each test uses its own database.
var (
	srvOnce sync.Once
	srv     *chtest.Server
)

func server(t *testing.T) *chtest.Server {
	t.Helper()
	chtest.SkipIfShort(t)
	srvOnce.Do(func() { srv = chtest.Start(t) })
	if srv == nil {
		t.Fatal("ClickHouse did not start")
	}
	return srv
}

func TestMain(m *testing.M) {
	code := m.Run()
	if srv != nil {
		srv.Close()
	}
	os.Exit(code)
}

func dbName(t *testing.T) string {
	return "t_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
}

func openSink(t *testing.T, s *chtest.Server, db string) *chsink.Sink {
	t.Helper()
	sink, err := chsink.Open(context.Background(), chsink.Config{DSN: s.DSN(db)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	return sink
}

// query returns the rows of a query as strings.
func query(t *testing.T, sink *chsink.Sink, q string, args ...any) [][]string {
	t.Helper()
	rows, err := sink.Conn().Query(context.Background(), "SELECT * FROM ("+q+") FORMAT TSV", args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out [][]string
	cols := rows.ColumnTypes()
	for rows.Next() {
		vals := make([]any, len(cols))
		for i, c := range cols {
			vals[i] = newOf(c.ScanType())
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = fmt.Sprint(deref(v))
		}
		out = append(out, row)
	}
	return out
}

// one returns a single value of a query.
func one(t *testing.T, sink *chsink.Sink, q string, args ...any) string {
	t.Helper()
	rows := query(t, sink, q, args...)
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: %v", q, rows)
	}
	return rows[0][0]
}

func runCH(t *testing.T, fake *testkit.Fake, sink *chsink.Sink, start, end time.Time) *pipeline.Summary {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	state, err := sink.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := testkit.Run(t, fake.URL, sink, state, t.TempDir(), mem, start, end)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return sum
}

// TestLoadMatchesParquet loads the same fake-API window into Parquet and
// ClickHouse: the same rows per stream and the same activity ids.
func TestLoadMatchesParquet(t *testing.T) {
	s := server(t)
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 400})
	start, end := testkit.Date("2026-03-01"), testkit.Date("2026-03-15")
	sink := openSink(t, s, dbName(t))
	sum := runCH(t, fake, sink, start, end)
	if sum.Status != pipeline.StatusComplete {
		t.Fatalf("status %s, errors %+v", sum.Status, sum.Errors)
	}

	dir := t.TempDir()
	pq, _ := parquet.NewSink(parquet.Config{Dir: dir})
	fs, _ := load.OpenFileState(filepath.Join(dir, "_state.json"))
	if _, err := testkit.Run(t, fake.URL, pq, fs, dir, nil, start, end); err != nil {
		t.Fatal(err)
	}
	db := sink.Database()
	for _, st := range schema.Streams {
		ds := testkit.ReadDataset(t, dir, st.Name)
		n := one(t, sink, fmt.Sprintf("SELECT count() FROM `%s`.`%s` FINAL", db, st.Name))
		v := one(t, sink, fmt.Sprintf("SELECT count() FROM `%s`.`%s_final`", db, st.Name))
		if n != fmt.Sprint(len(ds.Rows)) || v != n {
			t.Errorf("%s: ClickHouse FINAL %s rows, view %s, Parquet %d", st.Name, n, v, len(ds.Rows))
		}
	}
	// The same activity ids, by checksum over the sorted list.
	var chIDs []string
	for _, r := range query(t, sink, fmt.Sprintf("SELECT activityId FROM `%s`.activity_final ORDER BY activityId", db)) {
		chIDs = append(chIDs, r[0])
	}
	pqIDs := testkit.ReadDataset(t, dir, "activity").Strings("activityId")
	want := fake.ActivityIDs(reporting, start, end)
	if sum256(chIDs) != sum256(pqIDs) || sum256(chIDs) != sum256(want) {
		t.Errorf("activity ids differ: ClickHouse %d, Parquet %d, fake %d", len(chIDs), len(pqIDs), len(want))
	}
	// Types as analysts see them.
	types := map[string]string{}
	for _, r := range query(t, sink, "SELECT name, type FROM system.columns WHERE database = ? AND table = 'activity'", db) {
		types[r[0]] = r[1]
	}
	for c, want := range map[string]string{"activityType": "LowCardinality(String)", "createdAt": "DateTime('UTC')", "memberIdentityKey": "Nullable(String)", "seatId": "Int64"} {
		if types[c] != want {
			t.Errorf("activity.%s is %s, want %s", c, types[c], want)
		}
	}
	// At least 100k rows per insert where the data has them: 2 contracts ×
	// 14 days × ~400 rows is ~11k per window, so one insert per window.
	if f := sum.Streams["activity"].Files; f != 2 {
		t.Errorf("%d activity inserts for 2 windows, want 2", f)
	}
}

func sum256(ids []string) string {
	h := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return fmt.Sprintf("%x", h[:8])
}

// Re-runs over overlapping windows never show a duplicate through FINAL or
// the view, though the raw table holds the rows more than once.
func TestOverlappingRerunsIdempotent(t *testing.T) {
	s := server(t)
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 100})
	sink := openSink(t, s, dbName(t))
	db := sink.Database()
	windows := [][2]string{{"2026-03-01", "2026-03-08"}, {"2026-03-05", "2026-03-12"}, {"2026-03-01", "2026-03-12"}, {"2026-03-03", "2026-03-10"}}
	var counts []string
	for i, w := range windows {
		// A fresh state each time, so each window is extracted again.
		if i > 0 {
			if err := sink.Conn().Exec(context.Background(), fmt.Sprintf("TRUNCATE TABLE `%s`.`%s`", db, chsink.StateTable)); err != nil {
				t.Fatal(err)
			}
		}
		runCH(t, fake, sink, testkit.Date(w[0]), testkit.Date(w[1]))
		if i > 0 {
			counts = append(counts, one(t, sink, fmt.Sprintf("SELECT count() FROM `%s`.activity FINAL", db)))
		}
	}
	want := fmt.Sprint(len(fake.ActivityIDs(reporting, testkit.Date("2026-03-01"), testkit.Date("2026-03-12"))))
	for i, c := range counts {
		if c != want {
			t.Errorf("after re-run %d: count() FINAL = %s, want %s", i+1, c, want)
		}
	}
	if v := one(t, sink, fmt.Sprintf("SELECT count() FROM `%s`.activity_final", db)); v != want {
		t.Errorf("view count %s, want %s", v, want)
	}
	if raw := one(t, sink, fmt.Sprintf("SELECT count() > %s FROM `%s`.activity", want, db)); raw != "1" {
		t.Errorf("the raw table holds no duplicate: the test did not overlap windows")
	}
	outcomes := fmt.Sprint(len(fake.OutcomeIDs(reporting, testkit.Date("2026-03-01"), testkit.Date("2026-03-12"))))
	if n := one(t, sink, fmt.Sprintf("SELECT count() FROM `%s`.activity_outcome_final", db)); n != outcomes {
		t.Errorf("%s outcomes through the view, the fake serves %s", n, outcomes)
	}
	// Seat snapshots at the ends of the windows: 03-07, 03-11 (twice) and
	// 03-09, each 25 seats × 2 contracts.
	if n := one(t, sink, fmt.Sprintf("SELECT count() FROM `%s`.seat_final", db)); n != "150" {
		t.Errorf("%s seat rows through the view, want 3 snapshots × 50", n)
	}
}

// A new CSV column becomes a Nullable(String) column, visible in the view.
func TestDriftAddsColumn(t *testing.T) {
	s := server(t)
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 50})
	sink := openSink(t, s, dbName(t))
	db := sink.Database()
	runCH(t, fake, sink, testkit.Date("2026-03-01"), testkit.Date("2026-03-02"))
	fake.Mangle = func(b []byte) []byte {
		if !testkit.IsActivityFile(b) {
			return b
		}
		lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
		for i := range lines {
			if i == 0 {
				lines[i] = append(lines[i], []byte(",region")...)
			} else {
				lines[i] = append(lines[i], []byte(",EMEA")...)
			}
		}
		return append(bytes.Join(lines, []byte("\n")), '\n')
	}
	sum := runCH(t, fake, sink, testkit.Date("2026-03-01"), testkit.Date("2026-03-03"))
	if sum.Status != pipeline.StatusComplete || !slices.Equal(sum.Streams["activity"].Drift, []string{"region"}) {
		t.Fatalf("status %s, drift %v, errors %+v", sum.Status, sum.Streams["activity"].Drift, sum.Errors)
	}
	if typ := one(t, sink, "SELECT type FROM system.columns WHERE database = ? AND table = 'activity' AND name = 'region'", db); typ != "Nullable(String)" {
		t.Errorf("region is %s", typ)
	}
	// The second run loaded only the new day (the cursor stood at 03-02):
	// its rows have the region, the first day's rows have NULL.
	got := query(t, sink, fmt.Sprintf("SELECT countIf(region = 'EMEA'), countIf(region IS NULL) FROM `%s`.activity_final", db))
	day1 := len(fake.ActivityIDs(reporting, testkit.Date("2026-03-01"), testkit.Date("2026-03-02")))
	day2 := len(fake.ActivityIDs(reporting, testkit.Date("2026-03-02"), testkit.Date("2026-03-03")))
	if got[0][0] != fmt.Sprint(day2) || got[0][1] != fmt.Sprint(day1) {
		t.Errorf("through the view: %s rows with region and %s without, want %d and %d", got[0][0], got[0][1], day2, day1)
	}
}

// A column whose type differs from the table's is an error before any row
// of the window is inserted.
func TestTypeConflictRefusedBeforeInsert(t *testing.T) {
	s := server(t)
	sink := openSink(t, s, dbName(t))
	db := sink.Database()
	ctx := context.Background()
	if err := sink.Conn().Exec(ctx, fmt.Sprintf("CREATE TABLE `%s`.activity (activityId String, seatId String, `_contract` String, `_extracted_at` DateTime('UTC'), createdAt DateTime('UTC')) ENGINE = ReplacingMergeTree(`_extracted_at`) ORDER BY (`_contract`, activityId)", db)); err != nil {
		t.Fatal(err)
	}
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 20})
	sum := runCH(t, fake, sink, testkit.Date("2026-03-01"), testkit.Date("2026-03-02"))
	if sum.Streams["activity"].Failed != 2 || !strings.Contains(fmt.Sprint(sum.Errors), chsink.ErrTypeConflict.Error()) || !strings.Contains(fmt.Sprint(sum.Errors), "seatId") {
		t.Fatalf("errors %+v", sum.Errors)
	}
	if n := one(t, sink, fmt.Sprintf("SELECT count() FROM `%s`.activity", db)); n != "0" {
		t.Errorf("%s rows inserted despite the conflict", n)
	}
}

func TestWrongPasswordClearError(t *testing.T) {
	s := server(t)
	dsn := strings.Replace(s.DSN("x"), chtest.Password, "not-the-password", 1)
	_, err := chsink.Open(context.Background(), chsink.Config{DSN: dsn})
	if err == nil || strings.Contains(err.Error(), "not-the-password") || !strings.Contains(err.Error(), "etl:xxxxx@"+s.Addr()) ||
		!strings.Contains(strings.ToLower(err.Error()), "password") {
		t.Fatalf("error %v: want one naming the DSN without its password", err)
	}
	_, err = chsink.Open(context.Background(), chsink.Config{DSN: "clickhouse://etl:pw@127.0.0.1:1/x", DialTimeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("wrong port: %v", err)
	}
}

// Contract URNs with quotes and backslashes are values, never SQL.
func TestHostileContractURN(t *testing.T) {
	s := server(t)
	urn := `urn:li:salesContract:9'9\"x\` + "`; DROP TABLE t --"
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 30, Contracts: []fakeapi.Contract{{URN: urn, Name: "hostile", HasReportingAccess: true}}})
	sink := openSink(t, s, dbName(t))
	db := sink.Database()
	sum := runCH(t, fake, sink, testkit.Date("2026-03-01"), testkit.Date("2026-03-03"))
	if sum.Status != pipeline.StatusComplete {
		t.Fatalf("status %s, errors %+v", sum.Status, sum.Errors)
	}
	got := query(t, sink, fmt.Sprintf("SELECT DISTINCT _contract FROM `%s`.activity", db))
	if len(got) != 1 || got[0][0] != urn {
		t.Errorf("_contract = %q, want %q", got, urn)
	}
	state, _ := sink.State(context.Background())
	c, ok, err := state.Cursor(context.Background(), "activity", urn)
	if err != nil || !ok || !c.Equal(testkit.Date("2026-03-03")) {
		t.Errorf("cursor of the hostile URN: %v %v %v", c, ok, err)
	}
	n := one(t, sink, fmt.Sprintf("SELECT count() FROM `%s`.activity_final", db))
	if want := fmt.Sprint(len(fake.ActivityIDs([]string{urn}, testkit.Date("2026-03-01"), testkit.Date("2026-03-03")))); n != want {
		t.Errorf("%s rows, want %s", n, want)
	}
}

func TestStateContract(t *testing.T) {
	s := server(t)
	db := dbName(t)
	open := func() load.StateStore {
		st, err := openSink(t, s, db).State(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	testkit.StateStoreContract(t, open, open)
}

// A state table created before cursor_ms existed gains it, and its day
// cursors read as before.
func TestStateTableMigrated(t *testing.T) {
	s := server(t)
	db := dbName(t)
	sink := openSink(t, s, db)
	ctx := context.Background()
	old := fmt.Sprintf("CREATE TABLE `%s`.`_salesnav_state` (`stream` String, `contract` String, `cursor` Date, `updated_at` DateTime('UTC'), `deleted` UInt8, `version` UInt64) ENGINE = ReplacingMergeTree(`version`) ORDER BY (`stream`, `contract`)", db)
	if err := sink.Conn().Exec(ctx, old); err != nil {
		t.Fatal(err)
	}
	b, err := sink.Conn().PrepareBatch(ctx, fmt.Sprintf("INSERT INTO `%s`.`_salesnav_state` (stream, contract, cursor, updated_at, deleted, version)", db))
	if err != nil {
		t.Fatal(err)
	}
	d := testkit.Date("2026-03-05")
	if err := b.Append("activity", "c1", d, d, uint8(0), uint64(1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	st, err := sink.State(ctx)
	if err != nil {
		t.Fatalf("opening the state on an old table: %v", err)
	}
	if c, ok, err := st.Cursor(ctx, "activity", "c1"); err != nil || !ok || !c.Equal(d) {
		t.Errorf("old day cursor = %v %v %v, want %v", c, ok, err, d)
	}
	ms := d.Add(13*time.Hour + 123*time.Millisecond)
	if err := st.SetCursor(ctx, "crm_validation", "i1", ms); err != nil {
		t.Fatal(err)
	}
	if c, _, err := st.Cursor(ctx, "crm_validation", "i1"); err != nil || !c.Equal(ms) {
		t.Errorf("millisecond cursor on the migrated table = %v, %v", c, err)
	}
}

// The server stops in the middle of a run: a clean failure, no cursor moved
// for what was not loaded; after a restart the next run completes with no
// duplicate.
func TestServerStoppedMidRun(t *testing.T) {
	s := chtest.Start(t) // its own server: this test stops it
	defer s.Close()
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 100})
	sink := openSink(t, s, "midrun")
	var downloads int
	var mu sync.Mutex
	fake.BeforeDownload = func() {
		mu.Lock()
		defer mu.Unlock()
		downloads++
		if downloads == 2 { // one contract at a time: its seat window loaded, then its activity download
			s.Stop()
		}
	}
	start, end := testkit.Date("2026-03-01"), testkit.Date("2026-03-06")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	state, err := sink.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := testkit.Run(t, fake.URL, sink, state, t.TempDir(), mem, start, end, func(c *pipeline.Config) { c.Concurrency = 1 })
	mem.AssertSize(t, 0)
	if sum.Status == pipeline.StatusComplete || len(sum.Errors) == 0 {
		t.Fatalf("run with the server stopped: status %s", sum.Status)
	}
	fake.BeforeDownload = nil
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	sink2 := openSink(t, s, "midrun")
	// Cursors: only what was loaded moved.
	st2, _ := sink2.State(context.Background())
	if c, ok, _ := st2.Cursor(context.Background(), "activity", reporting[0]); ok {
		t.Errorf("activity cursor moved to %v though its load failed", c)
	}
	if c, ok, _ := st2.Cursor(context.Background(), "seat", reporting[0]); !ok || !c.Equal(end) {
		t.Errorf("seat cursor %v %v: the window loaded before the stop must have moved it", c, ok)
	}
	sum = runCH(t, fake, sink2, start, end)
	if sum.Status != pipeline.StatusComplete {
		t.Fatalf("run after restart: %s %+v", sum.Status, sum.Errors)
	}
	want := fmt.Sprint(len(fake.ActivityIDs(reporting, start, end)))
	if n := one(t, sink2, "SELECT count() FROM midrun.activity_final"); n != want {
		t.Errorf("%s activity rows after recovery, want %s", n, want)
	}
	if n := one(t, sink2, "SELECT count() FROM midrun.seat_final"); n != "50" {
		t.Errorf("%s seat rows, want 50", n)
	}
}

// A window refused half-way (too many rejects, after rows were already
// sent to ClickHouse) leaves the table as it was: its rows went to a
// staging table, dropped with the window.
func TestRefusedWindowLeavesTableAlone(t *testing.T) {
	s := server(t)
	db := dbName(t)
	sink, err := chsink.Open(context.Background(), chsink.Config{DSN: s.DSN(db), BatchRows: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 200})
	fake.Mangle = func(b []byte) []byte {
		if testkit.IsActivityFile(b) {
			return append(b, "bad,PHONE_CALL,03-01-2026 10:00:00,1,\n"...)
		}
		return b
	}
	sum := runCH(t, fake, sink, testkit.Date("2026-03-01"), testkit.Date("2026-03-03"))
	if sum.Streams["activity"].Failed != 2 || !strings.Contains(fmt.Sprint(sum.Errors), pipeline.ErrTooManyRejects.Error()) {
		t.Fatalf("errors %+v", sum.Errors)
	}
	if n := one(t, sink, fmt.Sprintf("SELECT count() FROM `%s`.activity", db)); n != "0" {
		t.Errorf("%s rows of refused windows in the table", n)
	}
	if n := one(t, sink, "SELECT count() FROM system.tables WHERE database = ? AND startsWith(name, '_stage_')", db); n != "0" {
		t.Errorf("%s staging tables left", n)
	}
	if n := one(t, sink, fmt.Sprintf("SELECT count() FROM `%s`.seat_final", db)); n != "50" {
		t.Errorf("%s seat rows: other streams must load", n)
	}
}

// A seat snapshot extracted again replaces its rows whole (changed values,
// seats gone), as the Parquet sink replaces the partition.
func TestSeatSnapshotReloadReplaces(t *testing.T) {
	s := server(t)
	sink := openSink(t, s, dbName(t))
	db := sink.Database()
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 10, OmitRowCount: true}) // a seat will go missing
	start, end := testkit.Date("2026-03-01"), testkit.Date("2026-03-03")
	runCH(t, fake, sink, start, end)
	// The new snapshot: statuses changed, and one seat gone per contract.
	fake.Mangle = func(b []byte) []byte {
		if !bytes.HasPrefix(b, []byte("seatId,")) {
			return b
		}
		lines := bytes.SplitAfter(b, []byte("\n"))
		b = bytes.Join(append(lines[:1:1], lines[2:]...), nil)
		return bytes.ReplaceAll(b, []byte(",ACTIVE,"), []byte(",SUSPENDED,"))
	}
	st, _ := sink.State(context.Background())
	if _, err := st.Reset(context.Background(), "seat", ""); err != nil {
		t.Fatal(err)
	}
	runCH(t, fake, sink, start, end)
	got := query(t, sink, fmt.Sprintf("SELECT count(), countIf(seatStatus = 'ACTIVE') FROM `%s`.seat_final", db))
	if got[0][0] != "48" || got[0][1] != "0" {
		t.Errorf("seat_final: %v rows, %v still ACTIVE; want 48 (the snapshot replaced whole) and 0", got[0][0], got[0][1])
	}
}

// openCRMWindow opens a CRM validation window of instance and writes the
// rows of a CSV.
func openCRMWindow(t *testing.T, sink *chsink.Sink, instance string, start time.Time, csv string) load.WindowWriter {
	t.Helper()
	tr, err := transform.NewReader(strings.NewReader(csv), schema.CRMValidation,
		transform.WithLineage(transform.Lineage{Contract: instance, WindowStart: start, WindowEnd: start.Add(time.Hour), JobID: 1, ExtractedAt: start}))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Release()
	w := load.Window{Stream: schema.CRMValidation, Contract: instance, PartitionID: load.PartitionID(instance), Start: start, End: start.Add(time.Hour), JobID: 1}
	ww, err := sink.OpenWindow(context.Background(), w, tr.Schema())
	if err != nil {
		t.Fatal(err)
	}
	for tr.Next() {
		if err := ww.Write(context.Background(), tr.RecordBatch()); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	return ww
}

// Two exports load at once; the second brings a new column, added to the
// table while the first is still open. The first still replaces its
// partition (its stage gains the column), and both keep their rows.
func TestReplacePartitionAfterConcurrentDrift(t *testing.T) {
	s := server(t)
	sink := openSink(t, s, dbName(t))
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	a := openCRMWindow(t, sink, "urn:li:crmInstance:(SFDC,A)", start, "recordId,recordType\nr1,CONTACT\nr2,LEAD\n")
	b := openCRMWindow(t, sink, "urn:li:crmInstance:(SFDC,B)", start, "recordId,recordType,newColumn\nr3,CONTACT,x\n")
	if _, err := b.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Commit(context.Background()); err != nil {
		t.Fatalf("committing the first export after the drift: %v", err)
	}
	db := sink.Database()
	if n := one(t, sink, fmt.Sprintf("SELECT count() FROM `%s`.crm_validation_final", db)); n != "3" {
		t.Errorf("%s rows, want 3", n)
	}
	if n := one(t, sink, fmt.Sprintf("SELECT count() FROM `%s`.crm_validation_final WHERE newColumn = 'x'", db)); n != "1" {
		t.Errorf("%s rows with the new column, want 1", n)
	}
}

// Issue 7 (found by TestChaos): a window with a drift column that fails
// (here, a CRM file whose header was cut at "de") leaves no column in the
// table; the column goes in only with a window that commits.
func TestAbortedDriftLeavesNoColumn(t *testing.T) {
	s := server(t)
	sink := openSink(t, s, dbName(t))
	db := sink.Database()
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ok := openCRMWindow(t, sink, "urn:li:crmInstance:(SFDC,A)", start, "recordId,recordType\nr1,CONTACT\n")
	if _, err := ok.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	cut := openCRMWindow(t, sink, "urn:li:crmInstance:(SFDC,B)", start, "recordId,recordType,de")
	cut.Abort()
	columns := func() string {
		return one(t, sink, "SELECT arrayStringConcat(groupArray(name), ',') FROM system.columns WHERE database = ? AND table = 'crm_validation' AND name IN ('de', 'owner')", db)
	}
	if got := columns(); got != "" {
		t.Fatalf("columns %q after an aborted window, want none", got)
	}
	// Event streams (a Log stage, made with the window's own columns).
	tr, err := transform.NewReader(strings.NewReader(strings.TrimSuffix(testkit.ActivityHeader, "\n")+",region\n"), schema.Activity,
		transform.WithLineage(transform.Lineage{Contract: "urn:li:salesContract:1", WindowStart: start, WindowEnd: start.AddDate(0, 0, 1), JobID: 2, ExtractedAt: start}))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Release()
	ww, err := sink.OpenWindow(context.Background(), load.Window{Stream: schema.Activity, Contract: "urn:li:salesContract:1", PartitionID: "1",
		Start: start, End: start.AddDate(0, 0, 1), JobID: 2}, tr.Schema())
	if err != nil {
		t.Fatal(err)
	}
	ww.Abort()
	if n := one(t, sink, "SELECT count() FROM system.columns WHERE database = ? AND name = 'region'", db); n != "0" {
		t.Errorf("region is in %s table(s) after an aborted window", n)
	}
	// Committed, the drift column is added.
	good := openCRMWindow(t, sink, "urn:li:crmInstance:(SFDC,B)", start, "recordId,recordType,owner\nr2,LEAD,x\n")
	if _, err := good.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := columns(); got != "owner" {
		t.Errorf("columns %q after a committed window, want owner", got)
	}
}

// Two processes (shards) on one database: the second to add a drift column
// finds it added by the first, and goes on.
func TestDriftColumnAddedByAnotherProcess(t *testing.T) {
	s := server(t)
	db := dbName(t)
	a, b := openSink(t, s, db), openSink(t, s, db)
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	// Both know the table without the column.
	for i, sink := range []*chsink.Sink{a, b} {
		w := openCRMWindow(t, sink, fmt.Sprintf("urn:li:crmInstance:(SFDC,P%d)", i), start, "recordId,recordType\nr0,CONTACT\n")
		if _, err := w.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	wa := openCRMWindow(t, a, "urn:li:crmInstance:(SFDC,A)", start, "recordId,recordType,owner\nr1,CONTACT,x\n")
	wb := openCRMWindow(t, b, "urn:li:crmInstance:(SFDC,B)", start, "recordId,recordType,owner\nr2,LEAD,y\n")
	if _, err := wa.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := wb.Commit(context.Background()); err != nil {
		t.Fatalf("the second process's commit: %v", err)
	}
	if n := one(t, b, fmt.Sprintf("SELECT count() FROM `%s`.crm_validation_final WHERE owner != ''", db)); n != "2" {
		t.Errorf("%s rows with the column, want 2", n)
	}
}

// A run killed between making a table and its view (found by
// TestCrashSIGKILL: every later run failed reading the loaded keys): the
// next Open makes the view again.
func TestMissingViewRepairedOnOpen(t *testing.T) {
	s := server(t)
	db := dbName(t)
	sink := openSink(t, s, db)
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	w := openCRMWindow(t, sink, "urn:li:crmInstance:(SFDC,A)", start, "recordId,recordType\nr1,CONTACT\n")
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := sink.Conn().Exec(context.Background(), fmt.Sprintf("DROP TABLE `%s`.crm_validation_final", db)); err != nil {
		t.Fatal(err)
	}
	again := openSink(t, s, db)
	keys, err := again.Distinct(context.Background(), "crm_validation", []string{"recordId"})
	if err != nil || len(keys) != 1 || keys[0][0] != "r1" {
		t.Fatalf("keys after the view went missing: %v, %v", keys, err)
	}
}
