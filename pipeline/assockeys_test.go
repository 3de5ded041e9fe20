package pipeline_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// assocOnly runs the profile associations stream alone.
func assocOnly(clk *clock) func(*pipeline.Config) {
	return func(c *pipeline.Config) {
		c.Streams = []*schema.Stream{schema.ProfileAssociations}
		c.Now = clk.Now
	}
}

// crmAndAssoc runs CRM validation, then profile associations.
func crmAndAssoc(clk *clock) func(*pipeline.Config) {
	return func(c *pipeline.Config) {
		c.Streams = []*schema.Stream{schema.CRMValidation, schema.ProfileAssociations}
		c.CRMInstances = crmInstances
		c.Now = clk.Now
	}
}

// distinctRecords is the distinct "instance recordId" of the loaded CRM
// rows.
func (r *rig) distinctRecords() []string { return slices.Compact(r.loadedRecords()) }

// sum of a batchCounter's sizes.
func total(sizes []int) int {
	n := 0
	for _, s := range sizes {
		n += s
	}
	return n
}

// oneRowPerKey checks that readers see one association per CRM record.
func oneRowPerKey(t *testing.T, r *rig) {
	t.Helper()
	rows := r.target.Rows(t, "profile_associations")
	if want := len(r.distinctRecords()); len(rows) != want || len(slices.Compact(slices.Clone(rows))) != want {
		t.Errorf("%d association rows, want one per CRM record (%d)", len(rows), want)
	}
	can := load.AbilitiesOf(r.target.Sink)
	keys, err := can.Reader.Distinct(context.Background(), "profile_associations", []string{"instanceId", "partner", "recordId"})
	if err != nil || len(keys) != len(rows) {
		t.Errorf("the sink's Distinct: %d keys, %v; want %d", len(keys), err, len(rows))
	}
	withStatus, err := can.Reader.Distinct(context.Background(), "profile_associations", []string{"instanceId", "partner", "recordId", "status"})
	if err != nil || len(withStatus) != len(rows) {
		t.Errorf("the sink's Distinct with status: %d rows, %v; want one per key, %d", len(withStatus), err, len(rows))
	}
}

// TestAssociationsLookUpOnlyNewRecords: each run looks up only the CRM
// records of the exports it loaded (plus keys to ask again), and after
// many runs readers see one row per key.
func TestAssociationsLookUpOnlyNewRecords(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		clk := newClock()
		r := newRig(t, k, fakeapi.Config{Now: clk.Now})
		api := &batchCounter{API: r.api}
		start := pipeline.Day(clk.Now()).AddDate(0, 0, -1)
		end := pipeline.Day(clk.Now())
		if sum, err := runAPI(t, r, api, start, end, crmAndAssoc(clk)); err != nil || sum.Status != pipeline.StatusComplete {
			t.Fatalf("run 1: %v, %+v", err, sum.Errors)
		}
		before := r.distinctRecords()
		if got := total(api.take()); got != len(before) || got < 50 {
			t.Fatalf("run 1 asked %d keys, want the %d CRM records", got, len(before))
		}
		for run := 2; run <= 5; run++ {
			clk.Add(6 * time.Hour)
			if sum, err := runAPI(t, r, api, start, end, crmAndAssoc(clk)); err != nil || sum.Status != pipeline.StatusComplete {
				t.Fatalf("run %d: %v, %+v", run, err, sum.Errors)
			}
			now := r.distinctRecords()
			fresh := len(now) - len(before)
			if got := total(api.take()); fresh == 0 || got != fresh {
				t.Errorf("run %d asked %d keys, want the %d new CRM records alone", run, got, fresh)
			}
			before = now
		}
		oneRowPerKey(t, r)
	})
}

// TestAssociationsAfterCRMOnlyRuns: CRM records loaded by runs that did
// not look associations up (a crash between the two, or runs of
// crm_validation alone) are looked up by the next run that does.
func TestAssociationsAfterCRMOnlyRuns(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		clk := newClock()
		r := newRig(t, k, fakeapi.Config{Now: clk.Now})
		api := &batchCounter{API: r.api}
		start := pipeline.Day(clk.Now()).AddDate(0, 0, -1)
		end := pipeline.Day(clk.Now())
		r.mustComplete(start, end, crmAndAssoc(clk))
		api.take()
		seen := len(r.distinctRecords())
		for range 2 {
			clk.Add(6 * time.Hour)
			r.mustComplete(start, end, crmOnly(clk))
		}
		pending := len(r.distinctRecords()) - seen
		if _, err := runAPI(t, r, api, start, end, assocOnly(clk)); err != nil {
			t.Fatal(err)
		}
		if got := total(api.take()); pending == 0 || got != pending {
			t.Errorf("the associations run asked %d keys, want the %d records of the two CRM-only runs", got, pending)
		}
		oneRowPerKey(t, r)
		// Nothing new: nothing asked.
		if _, err := runAPI(t, r, api, start, end, assocOnly(clk)); err != nil {
			t.Fatal(err)
		}
		if got := api.take(); len(got) != 0 {
			t.Errorf("a run with nothing new asked %v", got)
		}
	})
}

// openCounter is storage that counts the files opened under a prefix.
type openCounter struct {
	storage.Storage
	prefix string
	mu     sync.Mutex
	opened []string
}

func (o *openCounter) Open(ctx context.Context, name string) (storage.File, error) {
	if strings.HasPrefix(name, o.prefix) {
		o.mu.Lock()
		o.opened = append(o.opened, name)
		o.mu.Unlock()
	}
	return o.Storage.Open(ctx, name)
}

func (o *openCounter) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := slices.Compact(slices.Sorted(slices.Values(o.opened)))
	o.opened = nil
	return out
}

// TestAssociationsReadOnlyNewExports: in Parquet, the associations of a
// run open only the CRM exports after the watermark and the one before
// (its end, to see whether it was extracted again), not all history.
func TestAssociationsReadOnlyNewExports(t *testing.T) {
	clk := newClock()
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: rowsPerDay, Now: clk.Now})
	dir := t.TempDir()
	ds, err := storage.NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	counter := &openCounter{Storage: ds, prefix: schema.CRMValidation.Name + "/"}
	sink, err := parquet.NewSink(parquet.Config{Storage: counter})
	if err != nil {
		t.Fatal(err)
	}
	state, err := load.OpenFileState(filepath.Join(dir, "_state.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, fake: fake, api: testkit.API(t, fake.URL),
		target: &testkit.Target{Name: "parquet", Sink: sink, State: state, Rows: func(t testing.TB, stream string) []string { return testkit.ParquetRows(t, dir, stream) }}}
	start := pipeline.Day(clk.Now()).AddDate(0, 0, -1)
	end := pipeline.Day(clk.Now())
	for run := 1; run <= 4; run++ {
		r.mustComplete(start, end, crmOnly(clk))
		counter.take()
		r.mustComplete(start, end, assocOnly(clk))
		opened := counter.take()
		if want := min(run, 2) * len(crmInstances); len(opened) != want {
			t.Errorf("run %d: the associations opened %d CRM exports, want %d: %v", run, len(opened), want, opened)
		}
		clk.Add(6 * time.Hour)
	}
	oneRowPerKey(t, r)
}

// TestAssociationsAfterExportExtractedAgain: a run whose CRM cursor was
// not saved still looks associations up; the next run extracts that
// export again from its start (now ending later) and looks up its new
// records: no key is lost.
func TestAssociationsAfterExportExtractedAgain(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		clk := newClock()
		r := newRig(t, k, fakeapi.Config{Now: clk.Now})
		api := &batchCounter{API: r.api}
		start := pipeline.Day(clk.Now()).AddDate(0, 0, -1)
		end := pipeline.Day(clk.Now())
		r.mustComplete(start, end, crmAndAssoc(clk))
		clk.Add(6 * time.Hour)
		fs := &flakyState{StateStore: r.target.State, failOn: "SetCursor"}
		sum, _ := testkit.RunWith(t, api, r.target.Sink, fs, t.TempDir(), nil, start, end, crmAndAssoc(clk))
		if sum.Status == pipeline.StatusComplete {
			t.Fatal("the interrupted run reports complete")
		}
		api.take()
		seen := len(r.distinctRecords())
		clk.Add(6 * time.Hour)
		r.mustComplete(start, end, crmAndAssoc(clk))
		if sum, err := runAPI(t, r, api, start, end, crmAndAssoc(clk)); err != nil || sum.Status != pipeline.StatusComplete {
			t.Fatalf("run: %v, %+v", err, sum.Errors)
		}
		oneRowPerKey(t, r)
		if len(r.distinctRecords()) <= seen {
			t.Fatal("the export extracted again brought no new record")
		}
	})
}
