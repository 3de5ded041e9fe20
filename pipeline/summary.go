package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
)

// Status is the outcome of a run.
type Status string

// Run outcomes.
const (
	// StatusComplete: every (stream, contract) loaded every window.
	StatusComplete Status = "complete"
	// StatusPartial: some (stream, contract) pairs failed, others loaded.
	StatusPartial Status = "partial"
	// StatusFailed: nothing could be loaded.
	StatusFailed Status = "failed"
	// StatusTemporary: the run stopped early for a reason that time cures
	// (API quota spent, data delayed by LinkedIn, a graceful stop); state
	// is saved and the next run picks up from there.
	StatusTemporary Status = "temporary"
)

// Summary reports a run. It is safe for concurrent updates through its
// methods while the run goes on.
type Summary struct {
	Status     Status    `json:"status"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	End        string    `json:"end"` // exclusive end day of this run
	Contracts  []string  `json:"contracts"`
	Skipped    []string  `json:"skippedContracts,omitempty"` // no reporting access
	// CRMInstances are the CRM instances whose exports this run loaded.
	CRMInstances []string `json:"crmInstances,omitempty"`
	// Shard is this run's shard ("i/n"), and OtherShards counts the
	// contracts and CRM instances left to the other shards.
	Shard       string                    `json:"shard,omitempty"`
	OtherShards int                       `json:"otherShards,omitempty"`
	Streams     map[string]*StreamSummary `json:"streams"`
	Errors      []UnitError               `json:"errors,omitempty"`
	// Deferred lists (stream, contract) pairs left for a later run.
	Deferred []UnitError `json:"deferred,omitempty"`
	// QuotaResetAt is set when the API quota ran out: when it resets.
	QuotaResetAt *time.Time `json:"quotaResetAt,omitempty"`
	// Stopped is set when the run was stopped gracefully (SIGTERM).
	Stopped bool `json:"stopped,omitempty"`

	mu       sync.Mutex
	units    int
	unitsOK  int
	runError string
}

// StreamSummary totals one stream over all contracts.
type StreamSummary struct {
	Windows  int   `json:"windows"`
	Rows     int64 `json:"rows"`
	Rejected int64 `json:"rejected"`
	// Repaired counts the loaded rows whose invalid UTF-8 was replaced
	// with U+FFFD (SALESNAV_INVALID_UTF8=replace); they are in Rows too.
	Repaired          int64    `json:"repaired"`
	Files             int      `json:"files"`
	RemovedPartitions int      `json:"removedPartitions"`
	Bytes             int64    `json:"bytes"`
	Drift             []string `json:"drift,omitempty"`
	RejectFiles       []string `json:"rejectFiles,omitempty"`
	Failed            int      `json:"failedContracts"`
}

// UnitError is the error that stopped one (stream, contract).
type UnitError struct {
	Stream   string `json:"stream"`
	Contract string `json:"contract"`
	Window   string `json:"window,omitempty"`
	Error    string `json:"error"`
	// Cause is the error itself, for callers that classify it
	// (errors.Is); it is not written out.
	Cause error `json:"-"`
}

func newSummary(streams []string, now time.Time, end time.Time) *Summary {
	s := &Summary{StartedAt: now.UTC(), End: end.Format(time.DateOnly), Streams: map[string]*StreamSummary{}}
	for _, name := range streams {
		s.Streams[name] = &StreamSummary{}
	}
	return s
}

func (s *Summary) addWindow(stream string, rows, rejected int64, files, removed int, bytes int64, drift []string, rejectFile string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.Streams[stream]
	st.Windows++
	st.Rows += rows
	st.Rejected += rejected
	st.Files += files
	st.RemovedPartitions += removed
	st.Bytes += bytes
	for _, d := range drift {
		if !contains(st.Drift, d) {
			st.Drift = append(st.Drift, d)
		}
	}
	if rejectFile != "" {
		st.RejectFiles = append(st.RejectFiles, rejectFile)
	}
}

// addRepaired counts the repaired rows of a loaded window.
func (s *Summary) addRepaired(stream string, repaired int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Streams[stream].Repaired += repaired
}

// addUnloadedRejects counts the rejects of a window that was not loaded.
func (s *Summary) addUnloadedRejects(stream string, rejected int64, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.Streams[stream]
	st.Rejected += rejected
	if path != "" {
		st.RejectFiles = append(st.RejectFiles, path)
	}
}

func (s *Summary) unitDone(stream, contract string, span *Span, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ue := UnitError{Stream: stream, Contract: contract, Cause: err}
	if err != nil {
		ue.Error = err.Error()
	}
	if span != nil {
		ue.Window = span.Start.Format(time.DateOnly) + "/" + span.End.Format(time.DateOnly)
	}
	var deferred *DeferredError
	switch {
	case errors.Is(err, errStopped), errors.Is(err, context.Canceled):
		// Interrupted, not failed: the next run goes on from here.
		return
	case errors.As(err, &deferred):
		s.Deferred = append(s.Deferred, ue)
		return
	}
	s.units++
	if err == nil {
		s.unitsOK++
		return
	}
	s.Streams[stream].Failed++
	s.Errors = append(s.Errors, ue)
}

// dimensionDone records a dimension's load. A failure makes the run
// partial at least; a success does not count as a loaded unit, so a run
// whose exports all failed is still "failed".
func (s *Summary) dimensionDone(stream string, err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Streams[stream].Failed++
	s.Errors = append(s.Errors, UnitError{Stream: stream, Error: err.Error(), Cause: err})
}

// quota records a spent API quota.
func (s *Summary) quota(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var qe *extract.QuotaError
	if errors.As(err, &qe) {
		t := qe.ResetAt
		s.QuotaResetAt = &t
	} else {
		t := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		s.QuotaResetAt = &t
	}
}

func (s *Summary) stopped() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Stopped = true
}

func (s *Summary) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runError = err.Error()
	s.Errors = append(s.Errors, UnitError{Error: err.Error(), Cause: err})
}

func (s *Summary) finish(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.FinishedAt = now.UTC()
	sort.Slice(s.Errors, func(i, j int) bool {
		a, b := s.Errors[i], s.Errors[j]
		return a.Stream+a.Contract < b.Stream+b.Contract
	})
	// Failures first: a quota or a stop must not hide them behind the
	// "retry later" of a temporary status.
	switch {
	case s.runError != "" || (s.units > 0 && s.unitsOK == 0 && len(s.Errors) > 0) || (s.units == 0 && len(s.Errors) > 0):
		s.Status = StatusFailed
	case len(s.Errors) > 0:
		s.Status = StatusPartial
	case s.QuotaResetAt != nil || s.Stopped || len(s.Deferred) > 0:
		s.Status = StatusTemporary
	default:
		s.Status = StatusComplete
	}
}

// Totals returns rows and rejects over all streams.
func (s *Summary) Totals() (rows, rejected int64) {
	for _, st := range s.Streams {
		rows += st.Rows
		rejected += st.Rejected
	}
	return rows, rejected
}

// streamNames lists the streams, sorted.
func (s *Summary) streamNames() []string {
	names := make([]string, 0, len(s.Streams))
	for n := range s.Streams {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Log writes the summary as log lines: one per stream, one per error, and
// a last one with the totals.
func (s *Summary) Log(log *slog.Logger) {
	for _, n := range s.streamNames() {
		st := s.Streams[n]
		log.Info("stream summary", "stream", n, "windows", st.Windows, "rows", st.Rows, "rejected", st.Rejected, "repaired", st.Repaired,
			"files", st.Files, "bytes", st.Bytes, "drift", st.Drift, "failed_contracts", st.Failed, "reject_files", st.RejectFiles)
	}
	for _, e := range s.Errors {
		log.Error("unit failed", "stream", e.Stream, "contract", e.Contract, "window", e.Window, "error", e.Error)
	}
	rows, rejected := s.Totals()
	log.Info("run finished", "status", s.Status, "contracts", len(s.Contracts), "rows", rows, "rejected", rejected,
		"end", s.End, "duration", s.FinishedAt.Sub(s.StartedAt).Round(time.Millisecond).String())
}

// WriteTable prints the summary for people.
func (s *Summary) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "run %s: %d contract(s), data up to %s (exclusive), %s\n",
		s.Status, len(s.Contracts), s.End, s.FinishedAt.Sub(s.StartedAt).Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stream\twindows\trows\trejected\trepaired\tfiles\tbytes\tdrift\t")
	for _, n := range s.streamNames() {
		st := s.Streams[n]
		drift := strings.Join(st.Drift, ",")
		if drift == "" {
			drift = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", n, st.Windows, st.Rows, st.Rejected, st.Repaired, st.Files, st.Bytes, drift)
	}
	tw.Flush()
	for _, e := range s.Errors {
		fmt.Fprintf(w, "error: %s %s %s: %s\n", e.Stream, e.Contract, e.Window, e.Error)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
