package pipeline_test

// Issue 4: every fault the fake API can inject, for both sinks, and the
// final dataset compared with a fault-free run of the same window: same
// rows, no duplicates, cursor where it should be.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

var (
	chOnce sync.Once
	chSrv  *chtest.Server
	dbSeq  atomic.Int32
)

func TestMain(m *testing.M) {
	code := m.Run()
	if chSrv != nil {
		chSrv.Close()
	}
	os.Exit(code)
}

// sinkKind makes a new, empty target of one kind.
type sinkKind struct {
	name string
	make func(t *testing.T) *testkit.Target
}

func kinds() []sinkKind {
	return []sinkKind{
		{"parquet", func(t *testing.T) *testkit.Target { return testkit.ParquetTarget(t) }},
		{"clickhouse", func(t *testing.T) *testkit.Target {
			chtest.SkipIfShort(t)
			chOnce.Do(func() { chSrv = chtest.Start(t) })
			if chSrv == nil {
				t.Fatal("ClickHouse did not start")
			}
			return testkit.ClickHouseTarget(t, chSrv.DSN(fmt.Sprintf("faults_%d", dbSeq.Add(1))))
		}},
	}
}

// forBoth runs fn once per sink kind.
func forBoth(t *testing.T, fn func(t *testing.T, k sinkKind)) {
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) { fn(t, k) })
	}
}

const rowsPerDay = 60

// rig is a fake API, a target, and runs of the pipeline between them.
type rig struct {
	t      *testing.T
	fake   *testkit.Fake
	target *testkit.Target
	api    *extract.Client
}

func newRig(t *testing.T, k sinkKind, cfg fakeapi.Config, api ...func(*extract.Config)) *rig {
	if cfg.RowsPerDay == 0 {
		cfg.RowsPerDay = rowsPerDay
	}
	fake := testkit.NewFake(t, cfg)
	return &rig{t: t, fake: fake, target: k.make(t), api: testkit.API(t, fake.URL, api...)}
}

func (r *rig) run(start, end time.Time, mutate ...func(*pipeline.Config)) (*pipeline.Summary, error) {
	r.t.Helper()
	fast := func(c *pipeline.Config) { c.RetryDelay = time.Millisecond }
	return testkit.RunWith(r.t, r.api, r.target.Sink, r.target.State, r.t.TempDir(), nil, start, end, append([]func(*pipeline.Config){fast}, mutate...)...)
}

// mustComplete runs and fails the test unless the run is complete.
func (r *rig) mustComplete(start, end time.Time, mutate ...func(*pipeline.Config)) *pipeline.Summary {
	r.t.Helper()
	sum, err := r.run(start, end, mutate...)
	if err != nil || sum.Status != pipeline.StatusComplete {
		r.t.Fatalf("run: %v, status %s, errors %+v, deferred %+v", err, sum.Status, sum.Errors, sum.Deferred)
	}
	return sum
}

// clean is what fault-free runs from start to each of ends in turn load,
// per stream: the same runs as the test's, without faults.
func clean(t *testing.T, k sinkKind, start time.Time, ends []time.Time, mutate ...func(*pipeline.Config)) map[string][]string {
	t.Helper()
	r := newRig(t, k, fakeapi.Config{})
	for _, end := range ends {
		r.mustComplete(start, end, mutate...)
	}
	out := map[string][]string{}
	for _, st := range schema.Streams {
		out[st.Name] = r.target.Rows(t, st.Name)
	}
	return out
}

// sameAsClean compares every stream with fault-free runs from start to
// each of ends (the runs the test made). Seat exports are a snapshot per
// window, so when a fault changed the windows (a split) only the event
// streams compare; see seatSnapshotsWhole.
func (r *rig) sameAsClean(k sinkKind, start time.Time, ends []time.Time, seat bool, mutate ...func(*pipeline.Config)) {
	r.t.Helper()
	want := clean(r.t, k, start, ends, mutate...)
	for _, st := range schema.Streams {
		if st == schema.Seat && !seat {
			continue
		}
		got := r.target.Rows(r.t, st.Name)
		if len(want[st.Name]) == 0 {
			r.t.Fatalf("%s: the clean run loaded nothing", st.Name)
		}
		if !slices.Equal(got, want[st.Name]) {
			r.t.Errorf("%s: %d rows, a fault-free run loads %d (duplicates or losses)", st.Name, len(got), len(want[st.Name]))
		}
	}
}

// seatSnapshotsWhole checks that every seat snapshot holds each seat of
// each contract once.
func (r *rig) seatSnapshotsWhole(snapshots int) {
	r.t.Helper()
	rows := r.target.Rows(r.t, "seat")
	if len(rows) != snapshots*25*2 || len(slices.Compact(slices.Clone(rows))) != len(rows) {
		r.t.Errorf("%d seat rows, want %d snapshots of 25 seats × 2 contracts, no duplicate", len(rows), snapshots)
	}
}

func ends(ts ...time.Time) []time.Time { return ts }

func (r *rig) cursor(stream string) time.Time {
	r.t.Helper()
	c, ok, err := r.target.State.Cursor(context.Background(), stream, reporting[0])
	if err != nil {
		r.t.Fatal(err)
	}
	if !ok {
		return time.Time{}
	}
	return c
}

func (r *rig) creates(sp pipeline.Span, contract string) int {
	n := 0
	for _, q := range r.fake.Requests() {
		if q.Contract == contract && q.StartAt.Time().Equal(sp.StartAt()) && q.EndAt.Time().Equal(sp.EndAt()) {
			n++
		}
	}
	return n
}

var (
	d0 = date("2026-03-01")
	d5 = date("2026-03-06")
)

// 1. Jobs in flight are state: a run that finds one resumes it; one the
// API no longer knows is created again.
func TestFaultJobInFlightResumed(t *testing.T) {
	for _, forget := range []bool{false, true} {
		t.Run(fmt.Sprintf("forgotten=%v", forget), func(t *testing.T) {
			forBoth(t, func(t *testing.T, k sinkKind) {
				r := newRig(t, k, fakeapi.Config{Faults: fakeapi.Faults{StuckJobs: true}})
				stop := make(chan struct{})
				go func() {
					for len(r.fake.Requests()) < 2 {
						time.Sleep(5 * time.Millisecond)
					}
					close(stop)
				}()
				sum, _ := r.run(d0, d5, func(c *pipeline.Config) { c.Stop = stop })
				if sum.Status != pipeline.StatusTemporary || !sum.Stopped {
					t.Fatalf("stopped run: status %s", sum.Status)
				}
				job, err := r.target.State.InFlight(context.Background(), "seat", reporting[0])
				if err != nil || job == nil {
					t.Fatalf("no job in flight after the stop: %v", err)
				}
				r.fake.Server.SetFaults(fakeapi.Faults{})
				if forget {
					r.fake.Server.ForgetJobs()
				}
				r.mustComplete(d0, d5)
				// Seat's job is resumed (forgotten: created again); activity
				// and outcome are created once each.
				want := 3
				if forget {
					want = 4
				}
				if n := r.creates(pipeline.Span{Start: d0, End: d5}, reporting[0]); n != want {
					t.Errorf("%d jobs created for the window, want %d", n, want)
				}
				if j, _ := r.target.State.InFlight(context.Background(), "seat", reporting[0]); j != nil {
					t.Errorf("job %d still in flight after a complete run", j.ID)
				}
				r.sameAsClean(k, d0, ends(d5), true)
			})
		})
	}
}

// 2. An expired download URL (403 from the download host) and dropped
// connections: poll again for a fresh URL and go on.
func TestFaultExpiredURLAndDroppedDownloads(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		var offset atomic.Int64
		clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		r := newRig(t, k, fakeapi.Config{Now: clock, Faults: fakeapi.Faults{DropDownloads: 2}})
		var n atomic.Int32
		r.fake.BeforeDownload = func() {
			if n.Add(1) == 4 { // the URL handed out an hour ago has expired
				offset.Add(int64(2 * time.Hour))
			}
		}
		// Three faults may fall on one window: give it room for all.
		r.mustComplete(d0, d5, func(c *pipeline.Config) { c.DownloadAttempts = 4 })
		if c := r.fake.Server.Calls(); c["dropped"] != 2 || c["download"] < 6+3 {
			t.Errorf("calls %v: want 2 dropped downloads and one refused URL, all retried", c)
		}
		r.sameAsClean(k, d0, ends(d5), true)
	})
}

// 3. Failed jobs: too large → halves down to a day; data delay → the stream
// waits for the next run, cursor kept; timed out or internal error →
// created again, up to a limit.
func TestFaultFailedJobs(t *testing.T) {
	t.Run("exceeded file size", func(t *testing.T) {
		forBoth(t, func(t *testing.T, k sinkKind) {
			r := newRig(t, k, fakeapi.Config{Faults: fakeapi.Faults{ExceedFileSizeDays: 2}})
			r.mustComplete(d0, d5)
			for _, q := range r.fake.Requests() {
				if days := (q.EndAt - q.StartAt + 1) / 86_400_000; days > 5 {
					t.Errorf("a job of %d days", days)
				}
			}
			// 5 days → 2+3 → 3 fails → 1+2: 5 jobs per stream and contract, 2 failed.
			if n := len(r.fake.Requests()); n != 5*3*2 {
				t.Errorf("%d jobs, want 30", n)
			}
			if !r.cursor("activity").Equal(d5) {
				t.Errorf("cursor %v", r.cursor("activity"))
			}
			r.sameAsClean(k, d0, ends(d5), false)
			r.seatSnapshotsWhole(3) // windows 2, 1 and 2 days long
		})
	})
	t.Run("data delay", func(t *testing.T) {
		forBoth(t, func(t *testing.T, k sinkKind) {
			r := newRig(t, k, fakeapi.Config{Faults: fakeapi.Faults{DataDelayAfter: date("2026-03-04")}})
			twoDays := func(c *pipeline.Config) { c.WindowDays = 2 }
			sum, err := r.run(d0, d5, twoDays)
			if err != nil || sum.Status != pipeline.StatusTemporary || len(sum.Deferred) != 6 || len(sum.Errors) != 0 {
				t.Fatalf("status %s, deferred %d, errors %+v (%v)", sum.Status, len(sum.Deferred), sum.Errors, err)
			}
			if c := r.cursor("activity"); !c.Equal(date("2026-03-03")) {
				t.Errorf("cursor %v, want 2026-03-03 (the last window LinkedIn had data for)", c)
			}
			r.fake.Server.SetFaults(fakeapi.Faults{})
			r.mustComplete(d0, d5, twoDays)
			r.sameAsClean(k, d0, ends(d5), true, twoDays)
		})
	})
	t.Run("timed out and internal error", func(t *testing.T) {
		forBoth(t, func(t *testing.T, k sinkKind) {
			r := newRig(t, k, fakeapi.Config{Faults: fakeapi.Faults{FailJobs: 3, FailStatus: "FAILED_DUE_TO_TIMED_OUT"}})
			r.mustComplete(d0, d5)
			r.fake.Server.SetFaults(fakeapi.Faults{FailJobs: 2, FailStatus: "FAILED_DUE_TO_INTERNAL_ERROR"})
			r.mustComplete(d0, d5.AddDate(0, 0, 1))
			if n := len(r.fake.Requests()); n != 6+3+6+2 {
				t.Errorf("%d jobs, want 17: each failed one created again", n)
			}
			r.sameAsClean(k, d0, ends(d5, d5.AddDate(0, 0, 1)), true)
		})
	})
	t.Run("retries run out", func(t *testing.T) {
		forBoth(t, func(t *testing.T, k sinkKind) {
			r := newRig(t, k, fakeapi.Config{Faults: fakeapi.Faults{FailJobs: 3, FailStatus: "FAILED_DUE_TO_INTERNAL_ERROR"}})
			sum, _ := r.run(d0, d5, func(c *pipeline.Config) { c.JobRetries = 2; c.Concurrency = 1 })
			// The first contract's seat stream fails (3 tries); the rest load.
			if sum.Status != pipeline.StatusPartial || len(sum.Errors) != 1 || sum.Errors[0].Stream != "seat" ||
				!strings.Contains(sum.Errors[0].Error, "FAILED_DUE_TO_INTERNAL_ERROR") {
				t.Fatalf("status %s, errors %+v", sum.Status, sum.Errors)
			}
			if !r.cursor("activity").Equal(d5) {
				t.Error("other streams did not continue")
			}
			r.mustComplete(d0, d5)
			r.sameAsClean(k, d0, ends(d5), true)
		})
	})
}

// 4. Polling cadence: exponential up to a cap, with a deadline per job.
func TestFaultPollingDeadline(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		r := newRig(t, k, fakeapi.Config{Faults: fakeapi.Faults{StuckJobs: true}})
		began := time.Now()
		sum, _ := r.run(d0, d5, func(c *pipeline.Config) {
			c.PollInitial, c.PollMax, c.JobTimeout = 5*time.Millisecond, 20*time.Millisecond, 150*time.Millisecond
		})
		if sum.Status != pipeline.StatusFailed || !strings.Contains(fmt.Sprint(sum.Errors), pipeline.ErrJobTimeout.Error()) {
			t.Fatalf("status %s, errors %+v", sum.Status, sum.Errors)
		}
		// 5, 10, 20, 20, … ms within 150 ms: about 9 polls per job; each
		// contract goes on to its next stream, so 6 jobs time out.
		polls := r.fake.Server.Calls()["getAnalyticsExport"]
		if polls < 6*5 || polls > 6*14 || time.Since(began) > 10*time.Second {
			t.Errorf("%d polls in %v for six stuck jobs", polls, time.Since(began))
		}
		// A job slower than the deadline stays in flight: the next run
		// resumes it rather than queue another behind it. All 6 (3 streams
		// × 2 contracts) are resumed: no job is created again.
		for _, st := range schema.Streams {
			if j, _ := r.target.State.InFlight(context.Background(), st.Name, reporting[0]); j == nil {
				t.Fatalf("the timed-out %s job was dropped from state", st.Name)
			}
		}
		n := len(r.fake.Requests())
		r.fake.Server.SetFaults(fakeapi.Faults{})
		r.mustComplete(d0, d5)
		if created := len(r.fake.Requests()) - n; created != 0 {
			t.Errorf("%d jobs created again instead of resumed", created)
		}
		r.sameAsClean(k, d0, ends(d5), true)
	})
}

// 5. Lookback re-extracts the last days to catch late data, without
// duplicates.
func TestFaultLookbackCatchesLateData(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		r := newRig(t, k, fakeapi.Config{})
		r.mustComplete(d0, d5)
		late := "late-1,INMAIL_SENT,03-05-2026 12:00:00,7,urn:li:member:9\n"
		r.fake.Mangle = func(b []byte) []byte {
			if testkit.IsActivityFile(b) && strings.Contains(string(b), ",03-05-2026 ") {
				return append(b, late...)
			}
			return b
		}
		end := d5.AddDate(0, 0, 2)
		n := len(r.fake.Requests())
		r.mustComplete(d0, end, func(c *pipeline.Config) { c.LookbackDays = 2 })
		for _, q := range r.fake.Requests()[n:] {
			if !q.StartAt.Time().Equal(date("2026-03-04")) {
				t.Errorf("job from %v, want the cursor less 2 days", q.StartAt.Time())
			}
		}
		got := r.target.Rows(t, "activity")
		want := clean(t, k, d0, ends(d5, end))["activity"]
		if len(got) != len(want)+2 { // the late row, for each contract
			t.Errorf("%d activity rows, want %d and the 2 late ones", len(got), len(want))
		}
		// A re-run with nothing new does not look back.
		n = len(r.fake.Requests())
		r.mustComplete(d0, end, func(c *pipeline.Config) { c.LookbackDays = 2 })
		if len(r.fake.Requests()) != n {
			t.Error("a run with nothing new created jobs")
		}
	})
}

// 6. A backfill loads a historic range and leaves the cursors alone.
func TestFaultBackfillKeepsCursor(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		r := newRig(t, k, fakeapi.Config{})
		r.mustComplete(d0.AddDate(0, 0, 2), d5)
		before, _ := r.target.State.List(context.Background())
		r.mustComplete(d0, d0.AddDate(0, 0, 2), func(c *pipeline.Config) { c.Backfill = true })
		after, _ := r.target.State.List(context.Background())
		if fmt.Sprint(cursors(before)) != fmt.Sprint(cursors(after)) {
			t.Errorf("a backfill moved cursors: %v → %v", cursors(before), cursors(after))
		}
		want := clean(t, k, d0, ends(d5))
		if got := r.target.Rows(t, "activity"); !slices.Equal(got, want["activity"]) {
			t.Errorf("%d activity rows, want %d", len(got), len(want["activity"]))
		}
		n, err := r.target.State.Reset(context.Background(), "activity", "")
		if err != nil || n != 2 {
			t.Errorf("reset: %d %v", n, err)
		}
	})
}

func cursors(es []load.Entry) []string {
	var out []string
	for _, e := range es {
		if e.Cursor != nil {
			out = append(out, e.Stream+"/"+e.Contract+"="+e.Cursor.Format(time.DateOnly))
		}
	}
	return out
}

// 7. A spent daily quota ends the run cleanly: state saved, temporary.
func TestFaultDailyQuota(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		r := newRig(t, k, fakeapi.Config{}, func(c *extract.Config) { c.QuotaBudget = 200 * time.Millisecond })
		var n atomic.Int32
		r.fake.BeforeDownload = func() {
			if n.Add(1) == 2 {
				r.fake.Server.SetFaults(fakeapi.Faults{QuotaExhausted: true})
			}
		}
		began := time.Now()
		sum, err := r.run(d0, d5, func(c *pipeline.Config) { c.Concurrency = 1 })
		if !errors.Is(err, extract.ErrQuotaExhausted) || sum.Status != pipeline.StatusTemporary || sum.QuotaResetAt == nil ||
			sum.QuotaResetAt.Hour() != 0 || time.Since(began) > 30*time.Second {
			t.Fatalf("status %s, reset %v, err %v", sum.Status, sum.QuotaResetAt, err)
		}
		if !r.cursor("seat").Equal(d5) {
			t.Error("the window loaded before the quota ran out lost its cursor")
		}
		r.fake.BeforeDownload = nil
		r.fake.Server.SetFaults(fakeapi.Faults{})
		r.mustComplete(d0, d5)
		r.sameAsClean(k, d0, ends(d5), true)
	})
}

// 8. Tokens: the refresh-token flow renews an expired token and goes on.
func TestFaultTokenExpiry(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		var fake *testkit.Fake
		r := newRig(t, k, fakeapi.Config{Token: "not-used"}, func(c *extract.Config) {
			member, app, err := extract.AuthConfig{ClientID: fakeapi.DefaultClientID, ClientSecret: fakeapi.DefaultClientSecret,
				RefreshToken: fakeapi.DefaultRefreshToken, TokenURL: strings.TrimSuffix(c.BaseURL, "/v2") + "/oauth/v2/accessToken"}.TokenSources(nil)
			if err != nil {
				t.Fatal(err)
			}
			c.Token, c.TokenSource, c.AppTokenSource = "", member, app
		})
		fake = r.fake
		var n atomic.Int32
		fake.BeforeDownload = func() {
			if n.Add(1)%2 == 0 {
				fake.Server.ExpireTokens()
			}
		}
		r.mustComplete(d0, d5)
		if c := fake.Server.Calls()["token"]; c < 3 {
			t.Errorf("%d token requests, want renewals after each expiry", c)
		}
		r.sameAsClean(k, d0, ends(d5), true)
	})
}

// 9. A graceful stop lets the window being loaded finish and starts no
// other; the next run goes on from there.
func TestFaultGracefulStop(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		r := newRig(t, k, fakeapi.Config{})
		stop := make(chan struct{})
		var once sync.Once
		r.fake.BeforeDownload = func() { once.Do(func() { close(stop) }) }
		sum, _ := r.run(d0, d5, func(c *pipeline.Config) { c.Stop = stop; c.Concurrency = 1 })
		if sum.Status != pipeline.StatusTemporary || !sum.Stopped || sum.Streams["seat"].Windows != 1 || sum.Streams["activity"].Windows != 0 {
			t.Fatalf("status %s, seat windows %d, activity windows %d", sum.Status, sum.Streams["seat"].Windows, sum.Streams["activity"].Windows)
		}
		if !r.cursor("seat").Equal(d5) {
			t.Error("the window being loaded at the stop lost its cursor")
		}
		r.fake.BeforeDownload = nil
		r.mustComplete(d0, d5)
		r.sameAsClean(k, d0, ends(d5), true)
	})
}

// 10. Contracts run in parallel up to the limit, never two jobs of one
// contract at once.
func TestFaultConcurrency(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		contracts := []fakeapi.Contract{}
		for i := range 4 {
			contracts = append(contracts, fakeapi.Contract{URN: fmt.Sprintf("urn:li:salesContract:%d", 2000+i), Name: "c", HasReportingAccess: true})
		}
		r := newRig(t, k, fakeapi.Config{Contracts: contracts, PollsToComplete: 5})
		r.mustComplete(d0, d5, func(c *pipeline.Config) { c.Concurrency = 3 })
		per, all := r.fake.MaxActive()
		if per != 1 || all < 2 || all > 3 {
			t.Errorf("at most %d jobs per contract and %d in all at once; want 1, and 2 to 3", per, all)
		}
	})
}

// 11. 429 bursts and 5xx answers are absorbed by retries.
func TestFaultThrottlingAndServerErrors(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		r := newRig(t, k, fakeapi.Config{Faults: fakeapi.Faults{RateLimitEvery: 4, ServerErrorEvery: 7, RetryAfterSeconds: 0}})
		r.mustComplete(d0, d5)
		if c := r.fake.Server.Calls(); c["fault429"] == 0 || c["fault503"] == 0 {
			t.Errorf("calls %v: no fault was injected", c)
		}
		r.sameAsClean(k, d0, ends(d5), true)
	})
}

// The cursor never moves backwards: a lookback window that is split, with
// a later half deferred, ends before the cursor.
func TestFaultCursorNeverBackwards(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		r := newRig(t, k, fakeapi.Config{})
		r.mustComplete(d0, d5)
		r.fake.Server.SetFaults(fakeapi.Faults{ExceedFileSizeDays: 2, DataDelayAfter: date("2026-03-05")})
		sum, _ := r.run(d0, d5.AddDate(0, 0, 2), func(c *pipeline.Config) { c.LookbackDays = 3 })
		if sum.Status != pipeline.StatusTemporary {
			t.Fatalf("status %s, errors %+v", sum.Status, sum.Errors)
		}
		for _, st := range schema.Streams {
			c, _, _ := r.target.State.Cursor(context.Background(), st.Name, reporting[0])
			if c.Before(d5) {
				t.Errorf("%s cursor moved back to %v", st.Name, c.Format(time.DateOnly))
			}
		}
	})
}

// Issue 5: each run loads the contracts the member can see, replaced whole
// (Parquet) or newest per contract (ClickHouse).
func TestContractsDimension(t *testing.T) {
	forBoth(t, func(t *testing.T, k sinkKind) {
		r := newRig(t, k, fakeapi.Config{})
		withContracts := func(c *pipeline.Config) { c.Streams = append([]*schema.Stream{schema.Contracts}, schema.Streams...) }
		for range 2 {
			sum := r.mustComplete(d0, d5, withContracts)
			if sum.Streams["contracts"].Rows != 3 {
				t.Fatalf("summary: %d contract rows", sum.Streams["contracts"].Rows)
			}
		}
		rows := r.target.Rows(t, "contracts")
		if len(rows) != 3 {
			t.Fatalf("%d contract rows after two runs, want 3: %v", len(rows), rows)
		}
		joined := strings.Join(rows, "\n")
		for _, want := range []string{`"contract":"urn:li:salesContract:1003"`, `"name":"Acme Corp Trial"`, `"description":null`, `"description":"Enterprise, annual"`} {
			if !strings.Contains(joined, want) {
				t.Errorf("contracts lack %s:\n%s", want, joined)
			}
		}
		if n := strings.Count(joined, `"hasReportingAccess":false`) + strings.Count(joined, `"hasReportingAccess":0`); n != 1 {
			t.Errorf("%d contracts without reporting access, want 1:\n%s", n, joined)
		}
	})
}

// Issue 17: a download whose server sends half the file and then nothing
// is given up after the idle timeout and tried again with a fresh URL;
// the run completes with the clean run's rows. The fake would wait 30s
// for the client to give up and then drop the connection itself, counted
// as stallOutlasted: a client without the idle timeout is seen that way.
func TestFaultStalledDownloadRetried(t *testing.T) {
	k := kinds()[0]
	r := newRig(t, k, fakeapi.Config{Faults: fakeapi.Faults{StallDownloads: 2}}, func(c *extract.Config) { c.DownloadIdleTimeout = 100 * time.Millisecond })
	r.mustComplete(d0, d5, func(c *pipeline.Config) { c.DownloadAttempts = 3 })
	if c := r.fake.Server.Calls(); c["stalled"] != 2 || c["stallOutlasted"] != 0 {
		t.Errorf("calls %v: want 2 stalled downloads, each given up by the client", c)
	}
	r.sameAsClean(k, d0, ends(d5), true)
}

// Issue 17: contracts listed twice run once, and load once; an empty
// list from a member who had contracts fails the run and leaves the
// contracts dimension as it was; an empty list on a first run is a member
// without contracts, complete.
func TestContractsListedTwiceOrVanished(t *testing.T) {
	k := kinds()[0]
	withContracts := func(c *pipeline.Config) { c.Streams = []*schema.Stream{schema.Contracts, schema.Activity} }
	r := newRig(t, k, fakeapi.Config{Faults: fakeapi.Faults{DuplicateContracts: true}})
	sum := r.mustComplete(d0, d5, withContracts)
	if len(sum.Contracts) != 2 || sum.Streams["contracts"].Rows != 3 || len(r.target.Rows(t, "contracts")) != 3 {
		t.Errorf("contracts listed twice: ran %v, loaded %d rows", sum.Contracts, sum.Streams["contracts"].Rows)
	}
	if c := r.fake.Server.Calls()["createAnalyticsExport"]; c != 2 {
		t.Errorf("%d exports created, want one per contract", c)
	}
	r.fake.Server.SetFaults(fakeapi.Faults{NoContracts: true})
	sum, err := r.run(d0, d5.AddDate(0, 0, 1), withContracts)
	if !errors.Is(err, pipeline.ErrNoContracts) || sum.Status != pipeline.StatusFailed {
		t.Errorf("an empty list after contracts: %v, %s", err, sum.Status)
	}
	if n := len(r.target.Rows(t, "contracts")); n != 3 {
		t.Errorf("the contracts dimension holds %d rows after an empty list, want 3", n)
	}
	fresh := newRig(t, k, fakeapi.Config{Faults: fakeapi.Faults{NoContracts: true}})
	fresh.mustComplete(d0, d5, withContracts)
}
