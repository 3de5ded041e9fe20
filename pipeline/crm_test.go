package pipeline_test

// Issue 5: CRM data validation exports (several files per job, the
// server's cursor) and profile associations, in both sinks.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

var crmInstances = []string{"urn:li:crmInstance:(SFDC,00D5e000000abc)", "urn:li:crmInstance:(DYNAMICS,org-2)"}

// clock is a settable clock near real time (download URLs expire against
// the real one).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// crmOnly runs the CRM validation stream alone for the test instances.
func crmOnly(clk *clock) func(*pipeline.Config) {
	return func(c *pipeline.Config) {
		c.Streams = []*schema.Stream{schema.CRMValidation}
		c.CRMInstances = crmInstances
		c.Now = clk.Now
	}
}

// wantRecords is what the fake exports for [startMs, endMs) per instance:
// "instance recordId" strings, sorted.
func wantRecords(fake *fakeapi.Server, startMs, endMs int64) []string {
	var out []string
	for _, inst := range crmInstances {
		for _, rec := range fake.Data().CRMRecords(inst, startMs, endMs) {
			out = append(out, inst+" "+rec.RecordID)
		}
	}
	slices.Sort(out)
	return out
}

// loadedRecords reads "instance recordId" of every loaded row, sorted;
// duplicates stay.
func (r *rig) loadedRecords() []string {
	var out []string
	for _, row := range r.target.Rows(r.t, "crm_validation") {
		var m map[string]any
		if err := json.Unmarshal([]byte(row), &m); err != nil {
			r.t.Fatal(err)
		}
		out = append(out, fmt.Sprint(m["_crm_instance"], " ", m["recordId"]))
	}
	slices.Sort(out)
	return out
}

// TestCRMValidationFilesLoadedExactlyOnce: a three-file export loads every
// row once, whichever 201 form creates it, even when a file is cut off
// half-way and the whole export is fetched again.
func TestCRMValidationFilesLoadedExactlyOnce(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		for _, form := range []struct {
			name      string
			body, cut bool
		}{{"201 without body", false, false}, {"201 with body", true, false}, {"file cut off", false, true}} {
			t.Run(form.name, func(t *testing.T) {
				clk := newClock()
				r := newRig(t, k, fakeapi.Config{CRMFiles: 3, CRMCreateBody: form.body, Now: clk.Now})
				if form.cut {
					r.fake.Server.SetFaults(fakeapi.Faults{DropDownloads: 1})
				}
				start := pipeline.Day(clk.Now()).AddDate(0, 0, -2)
				sum := r.mustComplete(start, pipeline.Day(clk.Now()), crmOnly(clk))
				want := wantRecords(r.fake.Server, start.UnixMilli(), clk.Now().Truncate(time.Minute).UnixMilli())
				got := r.loadedRecords()
				if len(want) < 150 || !slices.Equal(got, want) {
					t.Fatalf("loaded %d records, the fake exported %d (want each once)", len(got), len(want))
				}
				if sum.Streams["crm_validation"].Rows != int64(len(want)) {
					t.Errorf("summary: %d rows, want %d", sum.Streams["crm_validation"].Rows, len(want))
				}
				downloads := r.fake.Server.Calls()["download"]
				wantDL := 3 * len(crmInstances)
				if form.cut {
					wantDL += 1 // the cut file: the export is fetched again
				}
				if downloads != wantDL {
					t.Errorf("%d downloads, want %d (three files per export)", downloads, wantDL)
				}
			})
		}
	})
}

// TestCRMValidationCursorFollowsNextExportStartAt: each export starts at
// the nextExportStartAt of the one before; a later run loads only the new
// records, and an export extracted again from the same start (a crash
// before the cursor was saved) replaces its partition: no duplicate.
func TestCRMValidationCursorFollowsNextExportStartAt(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		clk := newClock()
		var mu sync.Mutex
		var starts []int64
		r := newRig(t, k, fakeapi.Config{Now: clk.Now})
		start := pipeline.Day(clk.Now()).AddDate(0, 0, -1)
		api := &recordingCRM{API: r.api, onCreate: func(inst string, at time.Time) {
			if inst == crmInstances[0] {
				mu.Lock()
				starts = append(starts, at.UnixMilli())
				mu.Unlock()
			}
		}}
		run := func() *pipeline.Summary {
			t.Helper()
			sum, err := runAPI(t, r, api, start, pipeline.Day(clk.Now()).AddDate(0, 0, 1), crmOnly(clk))
			if err != nil || sum.Status != pipeline.StatusComplete {
				t.Fatalf("run: %v, %s, %+v", err, sum.Status, sum.Errors)
			}
			return sum
		}
		cursor := func() time.Time {
			c, ok, err := r.target.State.Cursor(context.Background(), "crm_validation", crmInstances[0])
			if err != nil || !ok {
				t.Fatalf("no cursor: %v", err)
			}
			return c
		}

		run()
		next1 := clk.Now().Truncate(time.Minute)
		if c := cursor(); !c.Equal(next1) {
			t.Fatalf("cursor after run 1 = %s, want the export's nextExportStartAt %s", c, next1)
		}
		clk.Add(3 * time.Hour)
		// Run 2's files carry a row that the re-export below lacks (a
		// record fixed in the CRM meanwhile): it must go with its partition.
		var mangled atomic.Int32
		r.fake.Mangle = func(b []byte) []byte {
			return fmt.Appendf(b, "ghost-record-%d,CONTACT,Ann,Smith,Initech,Globex,x\n", mangled.Add(1))
		}
		sum := run()
		r.fake.Mangle = nil
		ghosts := func() int { return strings.Count(strings.Join(r.loadedRecords(), "\n"), "ghost-record") }
		if g := ghosts(); g != 3*len(crmInstances) || int(mangled.Load()) != g {
			t.Fatalf("%d ghost rows after run 2, want one per file", g)
		}
		next2 := clk.Now().Truncate(time.Minute)
		if c := cursor(); !c.Equal(next2) {
			t.Fatalf("cursor after run 2 = %s, want %s", c, next2)
		}
		if newRows := len(wantRecords(r.fake.Server, next1.UnixMilli(), next2.UnixMilli())) + 3*len(crmInstances); sum.Streams["crm_validation"].Rows != int64(newRows) || newRows == 3*len(crmInstances) {
			t.Errorf("run 2 loaded %d rows, want only the %d new ones", sum.Streams["crm_validation"].Rows, newRows)
		}
		mu.Lock()
		got := slices.Clone(starts)
		mu.Unlock()
		if want := []int64{start.UnixMilli(), next1.UnixMilli()}; !slices.Equal(got, want) {
			t.Fatalf("exportStartAt sent = %v, want the start, then run 1's nextExportStartAt: %v", got, want)
		}

		// A crash after run 2's load, before its cursor was saved: the
		// next run exports again from next1, later, and replaces it.
		for _, inst := range crmInstances {
			if err := r.target.State.SetCursor(context.Background(), "crm_validation", inst, next1); err != nil {
				t.Fatal(err)
			}
		}
		clk.Add(time.Hour)
		run()
		want := wantRecords(r.fake.Server, start.UnixMilli(), clk.Now().Truncate(time.Minute).UnixMilli())
		if got := r.loadedRecords(); !slices.Equal(got, want) {
			t.Fatalf("after the re-export: %d records, want %d, each once (ghost rows: %d)", len(got), len(want), ghosts())
		}
	})
}

// TestCRMValidationFailedJobCreatedAgain: FAILED_DUE_TO_INTERNAL_ERROR is
// retried with a new job; the cursor does not move until the data is in.
func TestCRMValidationFailedJobCreatedAgain(t *testing.T) {
	clk := newClock()
	r := newRig(t, kinds()[0], fakeapi.Config{Now: clk.Now})
	r.fake.Server.SetFaults(fakeapi.Faults{FailJobs: 1})
	start := pipeline.Day(clk.Now()).AddDate(0, 0, -1)
	r.mustComplete(start, pipeline.Day(clk.Now()), crmOnly(clk))
	if n := r.fake.Server.Calls()["createCrmValidationExport"]; n != len(crmInstances)+1 {
		t.Errorf("%d exports created, want one per instance and one retry", n)
	}
	want := wantRecords(r.fake.Server, start.UnixMilli(), clk.Now().Truncate(time.Minute).UnixMilli())
	if got := r.loadedRecords(); !slices.Equal(got, want) {
		t.Errorf("%d records, want %d", len(got), len(want))
	}

	// With no retry left, the unit fails and its cursor stays.
	r2 := newRig(t, kinds()[0], fakeapi.Config{Now: clk.Now})
	r2.fake.Server.SetFaults(fakeapi.Faults{FailJobs: 10})
	sum, _ := r2.run(start, pipeline.Day(clk.Now()), crmOnly(clk), func(c *pipeline.Config) { c.JobRetries = -1 })
	if sum.Status != pipeline.StatusFailed || len(sum.Errors) != 2 || !strings.Contains(sum.Errors[0].Error, "FAILED_DUE_TO_INTERNAL_ERROR") {
		t.Fatalf("status %s, errors %+v", sum.Status, sum.Errors)
	}
	if _, ok, _ := r2.target.State.Cursor(context.Background(), "crm_validation", crmInstances[0]); ok {
		t.Error("a failed export moved the cursor")
	}
	if j, _ := r2.target.State.InFlight(context.Background(), "crm_validation", crmInstances[0]); j != nil {
		t.Errorf("a failed export stays in flight: %+v", j)
	}
}

// loadedOnce loads CRM validation once from yesterday, then moves the
// clock two hours on: the next export has new records, from a cursor that
// is not a whole day. It returns the window to run.
func loadedOnce(t *testing.T, k sinkKind) (r *rig, clk *clock, start, end time.Time) {
	t.Helper()
	clk = newClock()
	r = newRig(t, k, fakeapi.Config{Now: clk.Now})
	start = pipeline.Day(clk.Now()).AddDate(0, 0, -1)
	end = pipeline.Day(clk.Now()).AddDate(0, 0, 1)
	r.mustComplete(start, end, crmOnly(clk))
	clk.Add(2 * time.Hour)
	return r, clk, start, end
}

// recordingCRM sees the exportStartAt of every CRM export created.
type recordingCRM struct {
	pipeline.API
	onCreate func(inst string, at time.Time)
}

func (a *recordingCRM) CreateCRMValidationExport(ctx context.Context, inst string, at time.Time) (extract.CRMValidationJob, error) {
	a.onCreate(inst, at)
	return a.API.CreateCRMValidationExport(ctx, inst, at)
}

// batchCounter counts batch lookups and their sizes.
type batchCounter struct {
	pipeline.API
	mu    sync.Mutex
	sizes []int
}

func (a *batchCounter) ProfileAssociations(ctx context.Context, keys []extract.AssociationKey) ([]extract.AssociationResult, error) {
	a.mu.Lock()
	a.sizes = append(a.sizes, len(keys))
	a.mu.Unlock()
	return a.API.ProfileAssociations(ctx, keys)
}

func (a *batchCounter) take() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sizes
	a.sizes = nil
	return s
}

func runAPI(t *testing.T, r *rig, api pipeline.API, start, end time.Time, mutate ...func(*pipeline.Config)) (*pipeline.Summary, error) {
	t.Helper()
	fast := func(c *pipeline.Config) { c.RetryDelay = time.Millisecond }
	return testkit.RunWith(t, api, r.target.Sink, r.target.State, t.TempDir(), nil, start, end, append([]func(*pipeline.Config){fast}, mutate...)...)
}

// TestProfileAssociationBatches: 250 keys in batches of 100, with keys
// holding commas, parentheses and colons, unmatched keys and keys the API
// fails. Unmatched is not a failure; a re-run looks up only the keys that
// met an error.
func TestProfileAssociationBatches(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		r := newRig(t, k, fakeapi.Config{})
		var keys []extract.AssociationKey
		for i := range 250 {
			rec := fmt.Sprintf("003%05d", i)
			switch {
			case i%50 == 7:
				rec = fmt.Sprintf("error-%d", i) // the fake fails these
			case i%10 == 3:
				rec = fmt.Sprintf("a,b(c):d %d%%", i)
			}
			keys = append(keys, extract.AssociationKey{InstanceID: "00D5e000000abc", Partner: "SFDC", RecordID: rec})
		}
		// Through the CSV reader, as SALESNAV_ASSOCIATION_KEYS_FILE is read.
		var csv strings.Builder
		csv.WriteString("recordId,partner,instanceId\n")
		for _, k := range keys {
			fmt.Fprintf(&csv, "%q,%s,%s\n", k.RecordID, k.Partner, k.InstanceID)
		}
		read, err := pipeline.ReadAssociationKeys(strings.NewReader(csv.String()), "keys.csv")
		if err != nil || !slices.Equal(read, keys) {
			t.Fatalf("keys read back: %v (%d keys)", err, len(read))
		}
		api := &batchCounter{API: r.api}
		cfg := func(c *pipeline.Config) {
			c.Streams = []*schema.Stream{schema.ProfileAssociations}
			c.AssociationKeys = read
		}
		sum, err := runAPI(t, r, api, d0, d5, cfg)
		if err != nil || sum.Status != pipeline.StatusComplete {
			t.Fatalf("run: %v, %s, %+v", err, sum.Status, sum.Errors)
		}
		if got := api.take(); !slices.Equal(got, []int{100, 100, 50}) {
			t.Errorf("batches %v, want [100 100 50]", got)
		}
		rows := r.target.Rows(t, "profile_associations")
		if len(rows) != 250 {
			t.Fatalf("%d rows, want one per key (250)", len(rows))
		}
		status := map[string]int{}
		seen := map[string]bool{}
		for _, row := range rows {
			var m map[string]any
			if err := json.Unmarshal([]byte(row), &m); err != nil {
				t.Fatal(err)
			}
			status[m["status"].(string)]++
			seen[m["recordId"].(string)] = true
			switch m["status"] {
			case schema.AssociationMatched:
				if m["member"] == nil || !strings.HasPrefix(m["profile"].(string), "https://") || fmt.Sprint(m["httpStatus"]) != "200" {
					t.Errorf("matched row without profile: %s", row)
				}
			case schema.AssociationUnmatched:
				if m["member"] != nil || fmt.Sprint(m["httpStatus"]) != "404" {
					t.Errorf("unmatched row: %s", row)
				}
			case schema.AssociationError:
				if !strings.Contains(fmt.Sprint(m["error"]), "internal error") || fmt.Sprint(m["httpStatus"]) != "500" {
					t.Errorf("errored row: %s", row)
				}
			}
		}
		for _, k := range keys {
			if !seen[k.RecordID] {
				t.Errorf("key %q did not round-trip", k.RecordID)
			}
		}
		// Expectations from the fake's own single-key answers.
		wantStatus := map[string]int{}
		for _, key := range keys {
			_, err := r.api.ProfileAssociation(context.Background(), key)
			var apiErr *extract.APIError
			switch {
			case err == nil:
				wantStatus[schema.AssociationMatched]++
			case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
				wantStatus[schema.AssociationUnmatched]++
			default:
				wantStatus[schema.AssociationError]++
			}
		}
		if fmt.Sprint(status) != fmt.Sprint(wantStatus) || status[schema.AssociationUnmatched] == 0 || status[schema.AssociationError] != 5 {
			t.Errorf("statuses %v, want %v", status, wantStatus)
		}

		// A re-run asks again only for the 5 keys that met an error, and
		// leaves one row per key.
		if sum, err := runAPI(t, r, api, d0, d5, cfg); err != nil || sum.Status != pipeline.StatusComplete {
			t.Fatalf("re-run: %v, %+v", err, sum.Errors)
		}
		if got := api.take(); !slices.Equal(got, []int{5}) {
			t.Errorf("re-run batches %v, want [5]", got)
		}
		if n := len(r.target.Rows(t, "profile_associations")); n != 250 {
			t.Errorf("%d rows after the re-run, want 250", n)
		}
	})
}

// TestAllStreamsTwice: every stream of the API in one run, into each sink;
// a second run adds nothing and duplicates nothing; profile associations
// cover every CRM record loaded.
func TestAllStreamsTwice(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		clk := newClock()
		r := newRig(t, k, fakeapi.Config{Now: clk.Now})
		end := pipeline.Day(clk.Now())
		start := end.AddDate(0, 0, -3)
		all := func(c *pipeline.Config) {
			c.Streams = schema.All()
			c.CRMInstances = crmInstances
			c.Now = clk.Now
		}
		r.mustComplete(start, end, all)
		first := map[string][]string{}
		for _, st := range schema.All() {
			first[st.Name] = r.target.Rows(t, st.Name)
			if len(first[st.Name]) == 0 {
				t.Errorf("%s: nothing loaded", st.Name)
			}
		}
		if crm, pa := len(first["crm_validation"]), len(first["profile_associations"]); crm != pa {
			t.Errorf("%d CRM records but %d profile associations", crm, pa)
		}
		sum := r.mustComplete(start, end, all)
		for _, st := range schema.All() {
			got := r.target.Rows(t, st.Name)
			if st == schema.Contracts {
				if len(got) != len(first[st.Name]) {
					t.Errorf("contracts: %d rows, then %d", len(first[st.Name]), len(got))
				}
				continue
			}
			if !slices.Equal(got, first[st.Name]) {
				t.Errorf("%s: %d rows after the first run, %d after the second", st.Name, len(first[st.Name]), len(got))
			}
			if st != schema.Contracts && sum.Streams[st.Name].Rows != 0 {
				t.Errorf("%s: the second run loaded %d rows", st.Name, sum.Streams[st.Name].Rows)
			}
		}
	})
}

func TestReadAssociationKeysErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "keys.csv: empty file"},
		{"instanceId,recordId\n", "keys.csv: line 1: header lacks column(s) partner"},
		{"instanceId,partner,recordId\na,b,c\na,,c\n", "keys.csv: line 3: column partner is empty"},
		{"instanceId,partner,recordId\na,b,\"c\n", "keys.csv: parse error on line 2"},
		{"instanceId,partner,recordId\n\"x\n", "keys.csv: parse error on line 2"},
		{"instanceId,partner,recordId\na\"b,c,d\n", "keys.csv: parse error on line 2, column 2"},
	} {
		_, err := pipeline.ReadAssociationKeys(strings.NewReader(tc.in), "keys.csv")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "k.csv"), []byte("\ufeffinstanceId,partner,recordId,extra\n00D,SFDC,r1,x\n00D,SFDC,r1,y\n"), 0o600)
	f, _ := os.Open(filepath.Join(dir, "k.csv"))
	defer f.Close()
	keys, err := pipeline.ReadAssociationKeys(f, "k.csv")
	if err != nil || len(keys) != 1 || keys[0] != (extract.AssociationKey{InstanceID: "00D", Partner: "SFDC", RecordID: "r1"}) {
		t.Errorf("BOM, extra column, duplicate: %v %v", keys, err)
	}
}

// TestCRMValidationJobInFlightResumed: an export still processing when a
// run gives up is resumed by the next run, from the cursor to the
// millisecond, not created again.
func TestCRMValidationJobInFlightResumed(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		r, clk, start, end := loadedOnce(t, k)
		r.fake.Server.SetFaults(fakeapi.Faults{StuckJobs: true})
		sum, _ := r.run(start, end, crmOnly(clk), func(c *pipeline.Config) { c.JobTimeout = 30 * time.Millisecond })
		if sum.Status != pipeline.StatusFailed || !strings.Contains(fmt.Sprint(sum.Errors), pipeline.ErrJobTimeout.Error()) {
			t.Fatalf("stuck run: %s %+v", sum.Status, sum.Errors)
		}
		job, err := r.target.State.InFlight(context.Background(), "crm_validation", crmInstances[0])
		if err != nil || job == nil {
			t.Fatalf("no job in flight after the stuck run: %v", err)
		}
		created := r.fake.Server.Calls()["createCrmValidationExport"]
		r.fake.Server.SetFaults(fakeapi.Faults{})
		r.mustComplete(start, end, crmOnly(clk))
		if n := r.fake.Server.Calls()["createCrmValidationExport"]; n != created {
			t.Errorf("%d exports created by the resuming run, want 0", n-created)
		}
		want := wantRecords(r.fake.Server, start.UnixMilli(), clk.Now().Truncate(time.Minute).UnixMilli())
		if got := r.loadedRecords(); !slices.Equal(got, want) {
			t.Errorf("%d records, want %d, each once", len(got), len(want))
		}
		if j, _ := r.target.State.InFlight(context.Background(), "crm_validation", crmInstances[0]); j != nil {
			t.Errorf("job %d still in flight", j.ID)
		}
	})
}

// flakyState fails the first call of one bookkeeping method, as a crash
// between the steps after an export's data is committed would leave it.
type flakyState struct {
	load.StateStore
	mu     sync.Mutex
	failOn string // "SetCursor" or "ClearInFlight"
}

func (s *flakyState) fail(method string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failOn == method {
		s.failOn = ""
		return true
	}
	return false
}

func (s *flakyState) SetCursor(ctx context.Context, stream, contract string, c time.Time) error {
	if stream == "crm_validation" && s.fail("SetCursor") {
		return errors.New("crashed before saving the cursor")
	}
	return s.StateStore.SetCursor(ctx, stream, contract, c)
}

func (s *flakyState) ClearInFlight(ctx context.Context, stream, contract string) error {
	if stream == "crm_validation" && s.fail("ClearInFlight") {
		return errors.New("crashed before clearing the job")
	}
	return s.StateStore.ClearInFlight(ctx, stream, contract)
}

// TestCRMValidationBookkeepingInterrupted: whichever bookkeeping step after
// a committed export fails, the next run loads every record exactly once,
// also when two exports start on the same day.
func TestCRMValidationBookkeepingInterrupted(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		for _, step := range []string{"ClearInFlight", "SetCursor"} {
			t.Run(step, func(t *testing.T) {
				r, clk, start, end := loadedOnce(t, k)
				fs := &flakyState{StateStore: r.target.State, failOn: step}
				sum, _ := testkit.RunWith(t, r.api, r.target.Sink, fs, t.TempDir(), nil, start, end, crmOnly(clk))
				if sum.Status == pipeline.StatusComplete {
					t.Fatalf("the interrupted run reports complete")
				}
				clk.Add(time.Hour)
				r.mustComplete(start, end, crmOnly(clk))
				// Everything up to the cursor (a resumed job ends where it
				// was created), each record once.
				var want []string
				for _, inst := range crmInstances {
					cur, _, _ := r.target.State.Cursor(context.Background(), "crm_validation", inst)
					for _, rec := range r.fake.Server.Data().CRMRecords(inst, start.UnixMilli(), cur.UnixMilli()) {
						want = append(want, inst+" "+rec.RecordID)
					}
				}
				slices.Sort(want)
				if got := r.loadedRecords(); len(want) < 100 || !slices.Equal(got, want) {
					t.Errorf("%d records, want %d, each once", len(got), len(want))
				}
				if j, _ := r.target.State.InFlight(context.Background(), "crm_validation", crmInstances[0]); j != nil {
					t.Errorf("job %d still in flight", j.ID)
				}
			})
		}
	})
}

// rewriteCSV applies fn to every record of a CSV body.
func rewriteCSV(t *testing.T, body []byte, fn func([]string) []string) []byte {
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Error(err)
		return body
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, r := range recs {
		w.Write(fn(r))
	}
	w.Flush()
	return b.Bytes()
}

// The files of one export may list their columns in another order, or
// lack one: every row loads under file 1's columns. A file with a column
// file 1 lacks fails the export, which is then created again, not resumed.
func TestCRMValidationFilesWithOtherColumns(t *testing.T) {
	clk := newClock()
	r := newRig(t, kinds()[0], fakeapi.Config{Now: clk.Now, CRMFiles: 3})
	var n atomic.Int32
	r.fake.Mangle = func(b []byte) []byte {
		if n.Add(1)%3 != 2 {
			return b
		}
		// File 2: reversed, without its last column (detectedAt).
		return rewriteCSV(t, b, func(rec []string) []string {
			rec = slices.Clone(rec[:len(rec)-1])
			slices.Reverse(rec)
			return rec
		})
	}
	start := pipeline.Day(clk.Now()).AddDate(0, 0, -2)
	end := pipeline.Day(clk.Now()).AddDate(0, 0, 1)
	r.mustComplete(start, end, crmOnly(clk))
	want := wantRecords(r.fake.Server, start.UnixMilli(), clk.Now().Truncate(time.Minute).UnixMilli())
	if got := r.loadedRecords(); !slices.Equal(got, want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	nulls := 0
	for _, row := range r.target.Rows(t, "crm_validation") {
		if strings.Contains(row, `"detectedAt":null`) {
			nulls++
		}
	}
	if nulls == 0 || nulls == len(want) {
		t.Errorf("%d of %d rows without detectedAt: want file 2's only", nulls, len(want))
	}

	r2 := newRig(t, kinds()[0], fakeapi.Config{Now: clk.Now, CRMFiles: 3})
	r2.fake.Mangle = func(b []byte) []byte {
		if !bytes.Contains(b, []byte("recordId")) || n.Add(1)%3 != 2 {
			return b
		}
		first := true
		return rewriteCSV(t, b, func(rec []string) []string {
			if first {
				first = false
				return append(rec, "surprise")
			}
			return append(rec, "x")
		})
	}
	sum, _ := r2.run(start, end, crmOnly(clk), func(c *pipeline.Config) { c.CRMInstances = crmInstances[:1] })
	if sum.Status != pipeline.StatusFailed || !strings.Contains(fmt.Sprint(sum.Errors), "column surprise is not in file 1") {
		t.Fatalf("status %s, errors %+v", sum.Status, sum.Errors)
	}
	if j, _ := r2.target.State.InFlight(context.Background(), "crm_validation", crmInstances[0]); j != nil {
		t.Errorf("the export stays in flight: job %d", j.ID)
	}
	if rows := r2.target.Rows(t, "crm_validation"); len(rows) != 0 {
		t.Errorf("%d rows loaded from a refused export", len(rows))
	}
}

// Issue 17: a completed CRM export whose nextExportStartAt is absurd (in
// microseconds: the year 50000) fails its window with an error naming it;
// the cursor stays, nothing is loaded, and the state stays readable: the
// next run, with sane answers, loads from the same start.
func TestCRMValidationAbsurdCursorRefused(t *testing.T) {
	k := kinds()[0]
	clk := newClock()
	r := newRig(t, k, fakeapi.Config{Now: clk.Now, Faults: fakeapi.Faults{CursorInMicros: true}})
	start := pipeline.Day(clk.Now()).AddDate(0, 0, -1)
	sum, _ := runAPI(t, r, r.api, start, pipeline.Day(clk.Now()).AddDate(0, 0, 1), crmOnly(clk))
	if sum.Status == pipeline.StatusComplete || sum.Streams["crm_validation"].Rows != 0 || len(sum.Errors) != len(crmInstances) ||
		!strings.Contains(sum.Errors[0].Error, "nextExportStartAt") || !strings.Contains(sum.Errors[0].Error, pipeline.ErrCursorOutOfRange.Error()) {
		t.Fatalf("status %s, %d rows, errors %+v", sum.Status, sum.Streams["crm_validation"].Rows, sum.Errors)
	}
	for _, inst := range crmInstances {
		if c, ok, err := r.target.State.Cursor(context.Background(), "crm_validation", inst); ok || err != nil {
			t.Errorf("%s: cursor %v, %v after a refused export", inst, c, err)
		}
	}
	r.fake.Server.SetFaults(fakeapi.Faults{})
	sum, err := runAPI(t, r, r.api, start, pipeline.Day(clk.Now()).AddDate(0, 0, 1), crmOnly(clk))
	if err != nil || sum.Status != pipeline.StatusComplete || sum.Streams["crm_validation"].Rows == 0 {
		t.Fatalf("the next run: %v, %s, %+v", err, sum.Status, sum.Errors)
	}
}

// Issue 17: a job status outside the documented set fails its window at
// once with an error naming it, for analytics and CRM exports alike (it
// is not polled until the job timeout, 20s here); a CRM
// export's FAILED_DUE_TO_DATA_DELAY defers it as it does an analytics
// window, and its FAILED_DUE_TO_TIMED_OUT is created again.
func TestUnknownJobStatusFailsAtOnce(t *testing.T) {
	k := kinds()[0]
	clk := newClock()
	streams := func(c *pipeline.Config) {
		crmOnly(clk)(c)
		c.Streams = []*schema.Stream{schema.Activity, schema.CRMValidation}
		c.JobTimeout = 20 * time.Second
	}
	start := pipeline.Day(clk.Now()).AddDate(0, 0, -2)
	end := pipeline.Day(clk.Now())
	for _, status := range []string{"ON_HOLD", "FAILED_DUE_TO_SOLAR_FLARES"} {
		r := newRig(t, k, fakeapi.Config{Now: clk.Now, Faults: fakeapi.Faults{FailJobs: 100, FailStatus: status, CRMFailStatus: status}})
		sum, _ := runAPI(t, r, r.api, start, end, streams)
		if len(sum.Errors) == 0 {
			t.Fatalf("%s: no error; status %s", status, sum.Status)
		}
		seen := map[string]bool{}
		for _, e := range sum.Errors {
			seen[e.Stream] = true
			if !strings.Contains(e.Error, pipeline.ErrUnknownJobStatus.Error()) || !strings.Contains(e.Error, status) {
				t.Errorf("%s: %s: %s", status, e.Stream, e.Error)
			}
		}
		if !seen["activity"] || !seen["crm_validation"] {
			t.Errorf("%s: errors of %v, want both streams", status, seen)
		}
	}
	r := newRig(t, k, fakeapi.Config{Now: clk.Now, Faults: fakeapi.Faults{FailJobs: 100, CRMFailStatus: "FAILED_DUE_TO_DATA_DELAY"}})
	sum, _ := runAPI(t, r, r.api, start, end, crmOnly(clk))
	if len(sum.Errors) != 0 || len(sum.Deferred) != len(crmInstances) {
		t.Errorf("data delay: errors %+v, deferred %+v; want every CRM instance deferred", sum.Errors, sum.Deferred)
	}
	r = newRig(t, k, fakeapi.Config{Now: clk.Now, Faults: fakeapi.Faults{FailJobs: 1, CRMFailStatus: "FAILED_DUE_TO_TIMED_OUT"}})
	if sum, err := runAPI(t, r, r.api, start, end, crmOnly(clk)); err != nil || sum.Status != pipeline.StatusComplete {
		t.Errorf("a timed-out CRM export: %v, %s, %+v; want it created again", err, sum.Status, sum.Errors)
	}
}

// Issue 17: a batch answer that says nothing about the keys asked ({})
// records them as errors, never as UNMATCHED, and the next run asks them
// again; keys without a match are asked again once
// AssociationRecheck has passed since their lookup, not before.
func TestAssociationsSilentAnswerAndRecheck(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) { associationsSilentAndRecheck(t, k) })
}

func associationsSilentAndRecheck(t *testing.T, k sinkKind) {
	clk := newClock()
	r := newRig(t, k, fakeapi.Config{Now: clk.Now, Faults: fakeapi.Faults{SilentAssociations: true}})
	var keys []extract.AssociationKey
	for i := range 40 {
		keys = append(keys, extract.AssociationKey{InstanceID: "00D5e000000abc", Partner: "SFDC", RecordID: fmt.Sprintf("003%05d", i)})
	}
	api := &batchCounter{API: r.api}
	cfg := func(c *pipeline.Config) {
		c.Streams = []*schema.Stream{schema.ProfileAssociations}
		c.AssociationKeys = keys
		c.Now = clk.Now
	}
	statuses := func() map[string]int {
		out := map[string]int{}
		for _, row := range r.target.Rows(t, "profile_associations") {
			var m map[string]any
			if err := json.Unmarshal([]byte(row), &m); err != nil {
				t.Fatal(err)
			}
			out[m["status"].(string)]++
		}
		return out
	}
	if _, err := runAPI(t, r, api, d0, d5, cfg); err != nil {
		t.Fatal(err)
	}
	if got := statuses(); got[schema.AssociationError] != 40 || got[schema.AssociationUnmatched] != 0 {
		t.Fatalf("a silent answer gave %v, want 40 errors and no UNMATCHED", got)
	}
	api.take()
	r.fake.Server.SetFaults(fakeapi.Faults{})
	if _, err := runAPI(t, r, api, d0, d5, cfg); err != nil {
		t.Fatal(err)
	}
	if got := api.take(); !slices.Equal(got, []int{40}) {
		t.Errorf("the next run asked %v, want all 40 keys again", got)
	}
	unmatched := statuses()[schema.AssociationUnmatched]
	if unmatched == 0 || statuses()[schema.AssociationError] != 0 {
		t.Fatalf("after a sane answer: %v", statuses())
	}
	clk.Add(29 * 24 * time.Hour)
	if _, err := runAPI(t, r, api, d0, d5, cfg); err != nil {
		t.Fatal(err)
	}
	if got := api.take(); len(got) != 0 {
		t.Errorf("29 days on, the run asked %v: unmatched keys are rechecked after 30 days", got)
	}
	clk.Add(24 * time.Hour)
	if _, err := runAPI(t, r, api, d0, d5, cfg); err != nil {
		t.Fatal(err)
	}
	if got := api.take(); !slices.Equal(got, []int{unmatched}) {
		t.Errorf("30 days on, the run asked %v, want the %d unmatched keys", got, unmatched)
	}
}
