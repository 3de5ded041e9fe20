package testkit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/load"
)

// StateStoreContract checks what every load.StateStore must do. open
// returns the store; reopen returns a new handle on the same state (to
// check durability).
func StateStoreContract(t *testing.T, open, reopen func() load.StateStore) {
	t.Helper()
	ctx := context.Background()
	s := open()
	d := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, ok, err := s.Cursor(ctx, "activity", "c1"); ok || err != nil {
		t.Fatalf("new state has a cursor (%v)", err)
	}
	for _, c := range []time.Time{d, d.AddDate(0, 0, 4), d.AddDate(0, 0, 9)} {
		if err := s.SetCursor(ctx, "activity", "c1", c); err != nil {
			t.Fatal(err)
		}
	}
	// A cursor that could not be read back (a time in microseconds taken
	// for milliseconds) is refused, and the saved one stays.
	if err := s.SetCursor(ctx, "activity", "c1", time.UnixMilli(d.UnixMilli()*1000)); !errors.Is(err, load.ErrBadCursor) {
		t.Errorf("a cursor in the year 58000: %v, want %v", err, load.ErrBadCursor)
	}
	job := load.Job{ID: 42, Stream: "activity", Contract: "c1", Start: d, End: d.AddDate(0, 0, 3), CreatedAt: d.Add(time.Hour)}
	if err := s.SetInFlight(ctx, job); err != nil {
		t.Fatal(err)
	}
	s.SetCursor(ctx, "activity", "c2", d)
	s.SetCursor(ctx, "seat", "c1", d)

	s2 := reopen()
	if c, ok, err := s2.Cursor(ctx, "activity", "c1"); err != nil || !ok || !c.Equal(d.AddDate(0, 0, 9)) {
		t.Errorf("cursor after reopen = %v %v %v, want the newest", c, ok, err)
	}
	got, err := s2.InFlight(ctx, "activity", "c1")
	if err != nil || got == nil || got.ID != job.ID || !got.Start.Equal(job.Start) || !got.End.Equal(job.End) || !got.CreatedAt.Equal(job.CreatedAt) {
		t.Fatalf("InFlight after reopen = %+v, %v; want %+v", got, err, job)
	}
	if j, _ := s2.InFlight(ctx, "seat", "c1"); j != nil {
		t.Errorf("seat has job %+v", j)
	}
	es, err := s2.List(ctx)
	if err != nil || len(es) != 3 || es[0].Stream != "activity" || es[0].Contract != "c1" || es[0].Job == nil || es[0].Cursor == nil || es[2].Stream != "seat" {
		t.Fatalf("List = %+v, %v", es, err)
	}
	if err := s2.ClearInFlight(ctx, "activity", "c1"); err != nil {
		t.Fatal(err)
	}
	if j, _ := s2.InFlight(ctx, "activity", "c1"); j != nil {
		t.Error("job still in flight after Clear")
	}
	if err := s2.SetInFlight(ctx, load.Job{ID: 7, Stream: "activity", Contract: "c2", Start: d, End: d.AddDate(0, 0, 1), CreatedAt: d}); err != nil {
		t.Fatal(err)
	}
	n, err := s2.Reset(ctx, "activity", "")
	if err != nil || n != 2 {
		t.Fatalf("Reset(activity) = %d, %v; want 2", n, err)
	}
	if _, ok, _ := s2.Cursor(ctx, "activity", "c2"); ok {
		t.Error("cursor survived Reset")
	}
	if j, _ := s2.InFlight(ctx, "activity", "c2"); j != nil {
		t.Error("job survived Reset")
	}
	if _, ok, _ := s2.Cursor(ctx, "seat", "c1"); !ok {
		t.Error("Reset(activity) touched seat")
	}
	if es, _ := reopen().List(ctx); len(es) != 1 || es[0].Stream != "seat" {
		t.Errorf("after reset and reopen: %+v", es)
	}
	// A reset cursor can be set again.
	if err := s2.SetCursor(ctx, "activity", "c2", d); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := reopen().Cursor(ctx, "activity", "c2"); !ok {
		t.Error("cursor set after a reset is missing")
	}
	// A CRM validation cursor is the API's nextExportStartAt, kept to the
	// millisecond; a whole-day cursor stays a day.
	ms := time.Date(2026, 3, 4, 13, 7, 9, 123e6, time.UTC)
	if err := s2.SetCursor(ctx, "crm_validation", "urn:li:crmInstance:(SFDC,00D1)", ms); err != nil {
		t.Fatal(err)
	}
	if c, ok, err := reopen().Cursor(ctx, "crm_validation", "urn:li:crmInstance:(SFDC,00D1)"); err != nil || !ok || !c.Equal(ms) {
		t.Errorf("millisecond cursor after reopen = %v %v %v, want %v", c, ok, err, ms)
	}
	if c, _, _ := reopen().Cursor(ctx, "activity", "c2"); !c.Equal(d) || c.Location() != time.UTC {
		t.Errorf("day cursor after reopen = %v, want %v", c, d)
	}
}
