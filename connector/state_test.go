package connector

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/load"
)

var fixed = func() time.Time { return time.Date(2026, 2, 11, 12, 0, 0, 0, time.UTC) }

// emitted records the state messages a State emits.
type emitted struct {
	streams []string
	states  []StreamState
	alls    []map[string]StreamState
}

func (e *emitted) emit(stream string, st StreamState, all map[string]StreamState) error {
	e.streams = append(e.streams, stream)
	e.states = append(e.states, st)
	e.alls = append(e.alls, all)
	return nil
}

// The State starts from the state passed back and emits the changed
// stream's state after each change, never the same state twice in a
// row; its cursors read back as the pipeline wrote them.
func TestStateEmitsChanges(t *testing.T) {
	ctx := context.Background()
	var e emitted
	s := NewState(map[string]StreamState{"activity": {Version: 1, Cursors: map[string]string{"c1": "2026-02-05"}}}, e.emit, fixed)
	cur, ok, err := s.Cursor(ctx, "activity", "c1")
	if err != nil || !ok || !cur.Equal(time.Date(2026, 2, 5, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("seeded cursor %v %v %v", cur, ok, err)
	}
	if _, ok, _ := s.Cursor(ctx, "seat", "c1"); ok {
		t.Error("a stream without state has a cursor")
	}
	job := load.Job{ID: 9, Stream: "activity", Contract: "c1", Start: cur, End: cur.AddDate(0, 0, 3)}
	next := time.Date(2026, 2, 8, 0, 0, 0, 0, time.UTC)
	crm := time.Date(2026, 2, 11, 11, 59, 0, 123e6, time.UTC)
	steps := []func() error{
		func() error { return s.SetInFlight(ctx, job) },
		func() error { return s.SetCursor(ctx, "activity", "c1", next) },
		func() error { return s.SetCursor(ctx, "activity", "c1", next) }, // the same: not emitted again
		func() error { return s.ClearInFlight(ctx, "activity", "c1") },
		func() error { return s.ClearInFlight(ctx, "activity", "c1") }, // none: nothing
		func() error { return s.SetCursor(ctx, "crm_validation", "urn:li:crmInstance:(SFDC,1)", crm) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := []string{
		`activity {"version":1,"cursors":{"c1":"2026-02-05"},"jobs":{"c1":{"id":9,"stream":"activity","contract":"c1","start":"2026-02-05T00:00:00Z","end":"2026-02-08T00:00:00Z","createdAt":"0001-01-01T00:00:00Z"}}}`,
		`activity {"version":1,"cursors":{"c1":"2026-02-08"},"jobs":{"c1":{"id":9,"stream":"activity","contract":"c1","start":"2026-02-05T00:00:00Z","end":"2026-02-08T00:00:00Z","createdAt":"0001-01-01T00:00:00Z"}}}`,
		`activity {"version":1,"cursors":{"c1":"2026-02-08"}}`,
		`crm_validation {"version":1,"cursors":{"urn:li:crmInstance:(SFDC,1)":"2026-02-11T11:59:00.123Z"}}`,
	}
	if len(e.states) != len(want) {
		t.Fatalf("%d states emitted, want %d: %v", len(e.states), len(want), e.streams)
	}
	for i, w := range want {
		raw, _ := json.Marshal(e.states[i])
		if got := e.streams[i] + " " + string(raw); got != w {
			t.Errorf("state %d:\n got %s\nwant %s", i, got, w)
		}
	}
	if last := e.alls[len(e.alls)-1]; len(last) != 2 || last["activity"].Cursors["c1"] != "2026-02-08" {
		t.Errorf("the whole state with the last message: %v", last)
	}
	got, _, _ := s.Cursor(ctx, "crm_validation", "urn:li:crmInstance:(SFDC,1)")
	if !got.Equal(crm) {
		t.Errorf("CRM cursor reads back %v", got)
	}
	entries, _ := s.List(ctx)
	if len(entries) != 2 || entries[0].Stream != "activity" || entries[0].Cursor == nil || entries[0].Job != nil {
		t.Errorf("List: %+v", entries)
	}
	// Emit sends the streams not emitted yet (seat: its empty state), once.
	if err := s.Emit("activity", "seat", "seat"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.streams); n != 5 || e.streams[4] != "seat" || len(e.states[4].Cursors) != 0 {
		t.Errorf("Emit: %v %v", e.streams, e.states[len(e.states)-1])
	}
}

// A cursor a state store could not write back is refused, and nothing is
// emitted.
func TestStateRefusesBadCursor(t *testing.T) {
	var e emitted
	s := NewState(nil, e.emit, fixed)
	err := s.SetCursor(context.Background(), "crm_validation", "x", time.UnixMilli(1770000000000*1000))
	if !errors.Is(err, load.ErrBadCursor) || len(e.states) != 0 {
		t.Errorf("error %v, %d states emitted", err, len(e.states))
	}
}

// A state that is not this connector's is refused, naming the stream and
// what is wrong.
func TestParseStreamState(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`{"version":1,"cursors":{"c":"2026-02-01"}}`, ""},
		{`{"version":1,"cursors":{"c":"2026-02-01T10:00:00.000Z"},"jobs":{"c":{"id":5,"stream":"s","contract":"c"}}}`, ""},
		{`{"version":2,"cursors":{}}`, "version 2, want 1"},
		{`{"version":1,"cursors":{"c":"tomorrow"}}`, `cursor of c: "tomorrow"`},
		{`{"version":1,"cursors":{},"jobs":{"c":{"stream":"s"}}}`, "job in flight of c has no id"},
		{`{"version":1,"cursor":"2026-02-01"}`, "unknown field"},
		{`[1,2]`, "cannot unmarshal"},
	} {
		_, err := ParseStreamState("activity", json.RawMessage(tc.raw))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.raw, err)
		case tc.want != "" && (!errors.Is(err, ErrBadState) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "stream activity")):
			t.Errorf("%s: %v, want ErrBadState with %q", tc.raw, err, tc.want)
		}
	}
}
