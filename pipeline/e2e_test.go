package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

var reporting = []string{"urn:li:salesContract:1001", "urn:li:salesContract:1002"}

var date = testkit.Date

// env is a fake API served over HTTP plus an output directory.
type env struct {
	*testkit.Fake
	t   *testing.T
	dir string
}

func newEnv(t *testing.T, rowsPerDay int) *env {
	return &env{Fake: testkit.NewFake(t, fakeapi.Config{RowsPerDay: rowsPerDay}), t: t, dir: t.TempDir()}
}

// run runs the pipeline over [start, end) into Parquet with a checked
// allocator.
func (e *env) run(start, end time.Time, mutate ...func(*pipeline.Config)) *pipeline.Summary {
	e.t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(e.t, 0)
	sink, err := parquet.NewSink(parquet.Config{Dir: e.dir, Allocator: mem})
	if err != nil {
		e.t.Fatal(err)
	}
	state, err := load.OpenFileState(filepath.Join(e.dir, "_state.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	sum, err := testkit.Run(e.t, e.URL, sink, state, filepath.Join(e.dir, "_rejects"), mem, start, end, mutate...)
	if err != nil {
		e.t.Fatalf("run: %v", err)
	}
	return sum
}

func (e *env) fakeActivityIDs(start, end time.Time) []string {
	return e.ActivityIDs(reporting, start, end)
}

func (e *env) fakeOutcomeKeys(start, end time.Time) []string {
	return e.OutcomeIDs(reporting, start, end)
}

func TestRunLoadsExactlyWhatTheAPIServes(t *testing.T) {
	e := newEnv(t, 150)
	start, end := date("2026-03-01"), date("2026-03-11")
	sum := e.run(start, end)
	if sum.Status != pipeline.StatusComplete {
		t.Fatalf("status %s, errors %+v", sum.Status, sum.Errors)
	}
	if !slices.Equal(sum.Skipped, []string{"urn:li:salesContract:1003"}) {
		t.Errorf("skipped %v, want the contract without reporting access", sum.Skipped)
	}
	act := testkit.ReadDataset(t, e.dir, "activity")
	want := e.fakeActivityIDs(start, end)
	got := act.Strings("activityId")
	if len(want) < 2500 || !slices.Equal(got, want) {
		t.Fatalf("activity: %d ids loaded, fake serves %d; equal=%v", len(got), len(want), slices.Equal(got, want))
	}
	if int64(len(got)) != sum.Streams["activity"].Rows {
		t.Errorf("summary says %d activity rows, dataset has %d", sum.Streams["activity"].Rows, len(got))
	}
	// Every row sits in the partition of its own date and contract.
	for i, p := range act.Values["_path"] {
		created := act.Values["createdAt"][i].(string)
		contract := act.Values["_contract"][i].(string)
		wantPath := "activity/contract=" + load.PartitionID(contract) + "/date=" + created[:10]
		if p != wantPath {
			t.Fatalf("row created %s of %s is in %s, want %s", created, contract, p, wantPath)
		}
	}
	// 10 days × 2 contracts partitions.
	if len(act.Files) != 20 {
		t.Errorf("%d activity files, want 20", len(act.Files))
	}
	out := testkit.ReadDataset(t, e.dir, "activity_outcome")
	if got, want := out.Strings("activityId"), e.fakeOutcomeKeys(start, end); !slices.Equal(got, want) || len(got) == 0 {
		t.Errorf("outcomes: %d loaded, fake serves %d", len(got), len(want))
	}
	seat := testkit.ReadDataset(t, e.dir, "seat")
	if len(seat.Rows) != 50 || len(seat.Files) != 2 {
		t.Errorf("seat: %d rows in %d files, want 25 per contract in one snapshot each", len(seat.Rows), len(seat.Files))
	}
	for f := range seat.Files {
		if !strings.Contains(f, "date=2026-03-10") {
			t.Errorf("seat snapshot in %s, want the window's last day 2026-03-10", f)
		}
	}
}

func TestRerunChangesNothing(t *testing.T) {
	e := newEnv(t, 100)
	start, end := date("2026-03-01"), date("2026-03-08")
	e.run(start, end)
	before := map[string]testkit.Dataset{}
	for _, s := range schema.Streams {
		before[s.Name] = testkit.ReadDataset(t, e.dir, s.Name)
	}
	nreq := len(e.Requests())
	sum := e.run(start, end)
	if sum.Status != pipeline.StatusComplete || len(e.Requests()) != nreq {
		t.Fatalf("second run: status %s, %d new export jobs, want none", sum.Status, len(e.Requests())-nreq)
	}
	for _, s := range schema.Streams {
		after := testkit.ReadDataset(t, e.dir, s.Name)
		if !maps.Equal(before[s.Name].Files, after.Files) {
			t.Errorf("%s: files changed on a run with nothing new", s.Name)
		}
	}
}

// Extracting the same window again (state lost, or a backfill) yields the
// same dataset: partitions are replaced, never appended to.
func TestSameWindowTwiceIdenticalDataset(t *testing.T) {
	e := newEnv(t, 100)
	start, end := date("2026-03-01"), date("2026-03-06")
	e.run(start, end)
	first := map[string]testkit.Dataset{}
	for _, s := range schema.Streams {
		first[s.Name] = testkit.ReadDataset(t, e.dir, s.Name)
	}
	if err := os.Remove(filepath.Join(e.dir, "_state.json")); err != nil {
		t.Fatal(err)
	}
	nreq := len(e.Requests())
	e.run(start, end)
	if len(e.Requests()) == nreq {
		t.Fatal("second run created no job: the test did not re-extract")
	}
	for _, s := range schema.Streams {
		again := testkit.ReadDataset(t, e.dir, s.Name)
		if !slices.Equal(first[s.Name].Rows, again.Rows) {
			t.Errorf("%s: %d rows first, %d after re-extracting the same window", s.Name, len(first[s.Name].Rows), len(again.Rows))
		}
	}
}

func TestAdvancingEndLoadsExactlyTheNewDays(t *testing.T) {
	e := newEnv(t, 100)
	start, end := date("2026-03-01"), date("2026-03-06")
	e.run(start, end)
	before := testkit.ReadDataset(t, e.dir, "activity")
	nreq := len(e.Requests())
	newEnd := end.AddDate(0, 0, 3)
	sum := e.run(start, newEnd)
	after := testkit.ReadDataset(t, e.dir, "activity")
	if got, want := after.Strings("activityId"), e.fakeActivityIDs(start, newEnd); !slices.Equal(got, want) {
		t.Fatalf("after advancing: %d ids, fake serves %d", len(got), len(want))
	}
	// Old partitions are untouched; new ones are exactly the three new days.
	var added []string
	for f, h := range after.Files {
		if old, ok := before.Files[f]; ok {
			if old != h {
				t.Errorf("%s was rewritten", f)
			}
			continue
		}
		added = append(added, f[strings.Index(f, "date=")+5:][:10])
	}
	sort.Strings(added)
	added = slices.Compact(added)
	if !slices.Equal(added, []string{"2026-03-06", "2026-03-07", "2026-03-08"}) {
		t.Errorf("new partitions for dates %v", added)
	}
	// One new job per stream and contract, each starting at the old end.
	if len(e.Requests())-nreq != 6 {
		t.Errorf("%d new jobs, want 6", len(e.Requests())-nreq)
	}
	for _, r := range e.Requests()[nreq:] {
		if r.StartAt.Time() != end || r.EndAt.Time() != newEnd.Add(-time.Millisecond) {
			t.Errorf("job window [%v, %v], want [%v, %v]", r.StartAt.Time(), r.EndAt.Time(), end, newEnd.Add(-time.Millisecond))
		}
	}
	if sum.Streams["activity"].Rows != int64(len(after.Rows)-len(before.Rows)) {
		t.Errorf("summary rows %d, dataset grew by %d", sum.Streams["activity"].Rows, len(after.Rows)-len(before.Rows))
	}
}

func TestLongRangeSplitIntoWindowsOf90Days(t *testing.T) {
	e := newEnv(t, 2)
	start, end := date("2025-06-01"), date("2026-01-01") // 214 days
	sum := e.run(start, end, func(c *pipeline.Config) { c.Streams = []*schema.Stream{schema.Activity} })
	if sum.Status != pipeline.StatusComplete || sum.Streams["activity"].Windows != 6 {
		t.Fatalf("status %s, %d windows, want 3 per contract", sum.Status, sum.Streams["activity"].Windows)
	}
	byContract := map[string][]extract.ExportRequest{}
	for _, r := range e.Requests() {
		byContract[r.Contract] = append(byContract[r.Contract], r)
	}
	for c, rs := range byContract {
		sort.Slice(rs, func(i, j int) bool { return rs[i].StartAt < rs[j].StartAt })
		if rs[0].StartAt.Time() != start || rs[len(rs)-1].EndAt.Time() != end.Add(-time.Millisecond) {
			t.Errorf("%s: windows do not cover the range", c)
		}
		for i, r := range rs {
			if days := (r.EndAt - r.StartAt + 1) / 86_400_000; days > 90 {
				t.Errorf("%s: window %d covers %d days", c, i, days)
			}
			if i > 0 && r.StartAt != rs[i-1].EndAt+1 {
				t.Errorf("%s: window %d starts at %d, previous ends at %d", c, i, r.StartAt, rs[i-1].EndAt)
			}
		}
	}
	if got, want := testkit.ReadDataset(t, e.dir, "activity").Strings("activityId"), e.fakeActivityIDs(start, end); !slices.Equal(got, want) {
		t.Errorf("%d ids loaded, fake serves %d", len(got), len(want))
	}
}

// badRow appends a row with an unknown activity type to activity files.
func badRow(b []byte) []byte {
	if testkit.IsActivityFile(b) {
		lines := bytes.SplitN(b, []byte("\n"), 3)
		// Reuse the first row's time so the row is inside the window.
		fields := bytes.Split(lines[1], []byte(","))
		return append(b, []byte("bad-1,PHONE_CALL,"+string(fields[2])+",1,\n")...)
	}
	return b
}

func TestRejectsOverRatioLeaveWindowUnloaded(t *testing.T) {
	e := newEnv(t, 50)
	start, end := date("2026-03-01"), date("2026-03-03")
	e.Mangle = badRow
	sum := e.run(start, end)
	if sum.Status != pipeline.StatusPartial {
		t.Fatalf("status %s, want partial (activity failed, other streams loaded)", sum.Status)
	}
	if sum.Streams["activity"].Failed != 2 || len(sum.Errors) != 2 || !strings.Contains(sum.Errors[0].Error, pipeline.ErrTooManyRejects.Error()) {
		t.Errorf("errors %+v", sum.Errors)
	}
	if n := len(testkit.ReadDataset(t, e.dir, "activity").Rows); n != 0 {
		t.Errorf("%d activity rows loaded from windows over the reject ratio", n)
	}
	if got := sum.Streams["activity"].Rejected; got != 2 || len(sum.Streams["activity"].RejectFiles) != 2 {
		t.Errorf("summary counts %d rejects in %d files, want 2 in 2", got, len(sum.Streams["activity"].RejectFiles))
	}
	if n := len(testkit.ReadDataset(t, e.dir, "seat").Rows); n != 50 {
		t.Errorf("seat rows %d: other streams must still load", n)
	}
	// The rejects are kept, with the line and reason.
	rejFile := filepath.Join(e.dir, "_rejects/activity/contract=1001/2026-03-01_2026-03-03.jsonl")
	raw, err := os.ReadFile(rejFile)
	if err != nil || !strings.Contains(string(raw), `"column":"activityType","value":"PHONE_CALL"`) || !strings.Contains(string(raw), `"line":`) {
		t.Errorf("rejects file: %v %s", err, raw)
	}
	st, _ := load.OpenFileState(filepath.Join(e.dir, "_state.json"))
	if _, ok, _ := st.Cursor(context.Background(), "activity", reporting[0]); ok {
		t.Error("cursor moved for a window that was not loaded")
	}
	if _, ok, _ := st.Cursor(context.Background(), "seat", reporting[0]); !ok {
		t.Error("seat cursor not saved")
	}

	// With a tolerated ratio the window loads, the rejects stay on file.
	sum = e.run(start, end, func(c *pipeline.Config) { c.MaxRejectRatio = 0.5 })
	if sum.Status != pipeline.StatusComplete || sum.Streams["activity"].Rejected != 2 {
		t.Fatalf("status %s, rejected %d", sum.Status, sum.Streams["activity"].Rejected)
	}
	if got, want := testkit.ReadDataset(t, e.dir, "activity").Strings("activityId"), e.fakeActivityIDs(start, end); !slices.Equal(got, want) {
		t.Errorf("%d ids loaded, fake serves %d", len(got), len(want))
	}
	if _, err := os.Stat(rejFile); err != nil {
		t.Errorf("rejects file gone after a tolerated load: %v", err)
	}
}

// A download shorter than the job's rowCount (truncated) must not replace
// partitions, nor move the cursor.
func TestShortDownloadFailsTheWindow(t *testing.T) {
	e := newEnv(t, 50)
	start, end := date("2026-03-01"), date("2026-03-03")
	e.run(start, end.AddDate(0, 0, -1))
	before := testkit.ReadDataset(t, e.dir, "activity")
	e.Mangle = func(b []byte) []byte {
		if testkit.IsActivityFile(b) {
			return b[:bytes.IndexByte(b, '\n')+1] // header only
		}
		return b
	}
	sum := e.run(start, end)
	if sum.Status != pipeline.StatusPartial || !strings.Contains(sum.Errors[0].Error, pipeline.ErrShortExport.Error()) {
		t.Fatalf("status %s, errors %+v", sum.Status, sum.Errors)
	}
	after := testkit.ReadDataset(t, e.dir, "activity")
	if !maps.Equal(before.Files, after.Files) {
		t.Error("a truncated download changed the dataset")
	}
	st, _ := load.OpenFileState(filepath.Join(e.dir, "_state.json"))
	if c, _, _ := st.Cursor(context.Background(), "activity", reporting[0]); !c.Equal(end.AddDate(0, 0, -1)) {
		t.Errorf("cursor %v moved past a failed window", c)
	}
}

// An empty body (no header) must fail the window, not empty its
// partitions, even when the job gives no rowCount to compare with.
func TestEmptyBodyFailsTheWindow(t *testing.T) {
	e := &env{Fake: testkit.NewFake(t, fakeapi.Config{RowsPerDay: 50, OmitRowCount: true}), t: t, dir: t.TempDir()}
	start, end := date("2026-03-01"), date("2026-03-03")
	e.run(start, end)
	before := testkit.ReadDataset(t, e.dir, "activity")
	if len(before.Rows) == 0 {
		t.Fatal("nothing loaded")
	}
	os.Remove(filepath.Join(e.dir, "_state.json"))
	e.Mangle = func(b []byte) []byte {
		if testkit.IsActivityFile(b) {
			return nil
		}
		return b
	}
	sum := e.run(start, end)
	if sum.Streams["activity"].Failed != 2 || !strings.Contains(fmt.Sprint(sum.Errors), pipeline.ErrNoHeader.Error()) {
		t.Fatalf("errors %+v", sum.Errors)
	}
	if after := testkit.ReadDataset(t, e.dir, "activity"); !maps.Equal(before.Files, after.Files) {
		t.Error("an empty download changed the dataset")
	}
}

// A job that completes with rowCount 0 and no file is an empty window:
// loaded as such, cursor moved.
func TestCompletedWithoutFileIsAnEmptyWindow(t *testing.T) {
	e := &env{Fake: testkit.NewFake(t, fakeapi.Config{RowsPerDay: -1, NoFileWhenEmpty: true}), t: t, dir: t.TempDir()}
	sum := e.run(date("2026-03-01"), date("2026-03-03"), func(c *pipeline.Config) { c.Streams = []*schema.Stream{schema.Activity} })
	if sum.Status != pipeline.StatusComplete || sum.Streams["activity"].Windows != 2 || sum.Streams["activity"].Rows != 0 {
		t.Fatalf("status %s, %+v, errors %+v", sum.Status, sum.Streams["activity"], sum.Errors)
	}
	if e.Server.Calls()["download"] != 0 {
		t.Error("a job without a file was downloaded")
	}
}

func TestUnreadableContractsFailTheRun(t *testing.T) {
	api, _ := extract.New(extract.Config{BaseURL: "http://127.0.0.1:1/v2", Token: "x", MaxAttempts: 1})
	dir := t.TempDir()
	sink, _ := parquet.NewSink(parquet.Config{Dir: dir})
	state, _ := load.OpenFileState(filepath.Join(dir, "s.json"))
	r, err := pipeline.New(pipeline.Config{Streams: schema.Streams, End: date("2026-03-02"), Start: date("2026-03-01"), RejectsDir: dir}, api, sink, state)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := r.Run(context.Background())
	if err == nil || sum.Status != pipeline.StatusFailed {
		t.Fatalf("run against no server: %v, status %s", err, sum.Status)
	}
	if _, err := os.Stat(filepath.Join(dir, "s.json")); !errors.Is(err, os.ErrNotExist) {
		t.Error("state written by a failed run")
	}
}

func TestConfigValidate(t *testing.T) {
	err := pipeline.Config{Start: date("2026-03-05"), End: date("2026-03-01"), MaxRejectRatio: 2, WindowDays: 91}.Validate()
	for _, want := range []string{"no streams", "not before end", "not in [0, 1]", "rejects directory", "window days"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %q", err, want)
		}
	}
}

// TestRejectsInStorage: with RejectsStorage (a bucket in production; here
// the same Storage interface on a directory), each window's rejects are
// uploaded whole when the window ends, under the same names as on disk, and
// a clean re-run removes them; no local rejects directory is made.
func TestRejectsInStorage(t *testing.T) {
	e := newEnv(t, 50)
	start, end := date("2026-03-01"), date("2026-03-03")
	store, err := storage.NewDirStorage(filepath.Join(t.TempDir(), "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	e.Mangle = badRow
	sum := e.run(start, end, func(c *pipeline.Config) { c.RejectsStorage = store; c.RejectsDir = "" })
	names, err := store.List(context.Background(), "activity/", ".jsonl")
	if err != nil || len(names) != 2 || sum.Streams["activity"].Rejected != 2 {
		t.Fatalf("rejects in storage: %v %v (summary: %d rejected)", names, err, sum.Streams["activity"].Rejected)
	}
	if names[0] != "activity/contract=1001/2026-03-01_2026-03-03.jsonl" || !slices.Contains(sum.Streams["activity"].RejectFiles, store.Location(names[0])) {
		t.Errorf("rejects named %v, summary lists %v", names, sum.Streams["activity"].RejectFiles)
	}
	f, err := store.Open(context.Background(), names[0])
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 4096)
	n, _ := f.ReadAt(raw, 0)
	f.Close()
	if !strings.Contains(string(raw[:n]), `"column":"activityType","value":"PHONE_CALL"`) {
		t.Errorf("rejects object: %s", raw[:n])
	}
	if _, err := os.Stat(filepath.Join(e.dir, "_rejects")); err == nil {
		t.Error("a local rejects directory was made")
	}
	e.Mangle = nil
	e.run(start, end, func(c *pipeline.Config) { c.RejectsStorage = store; c.RejectsDir = ""; c.Backfill = true })
	if names, _ := store.List(context.Background(), "activity/", ".jsonl"); len(names) != 0 {
		t.Errorf("a clean re-run left rejects: %v", names)
	}
}
