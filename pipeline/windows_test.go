package pipeline

import (
	"errors"
	"testing"
	"time"
)

func d(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPlanWindows(t *testing.T) {
	tests := []struct {
		from, to string
		max      int
		want     []string // start/end pairs
	}{
		{"2026-03-01", "2026-03-01", 90, nil},
		{"2026-03-02", "2026-03-01", 90, nil},
		{"2026-03-01", "2026-03-02", 90, []string{"2026-03-01/2026-03-02"}},
		{"2026-01-01", "2026-04-01", 90, []string{"2026-01-01/2026-04-01"}}, // exactly 90 days
		{"2026-01-01", "2026-04-02", 90, []string{"2026-01-01/2026-04-01", "2026-04-01/2026-04-02"}},
		{"2025-01-01", "2025-07-01", 90, []string{"2025-01-01/2025-04-01", "2025-04-01/2025-06-30", "2025-06-30/2025-07-01"}},
		{"2026-03-01", "2026-03-08", 3, []string{"2026-03-01/2026-03-04", "2026-03-04/2026-03-07", "2026-03-07/2026-03-08"}},
		{"2026-03-01", "2026-03-03", 0, []string{"2026-03-01/2026-03-03"}},   // 0 means 90
		{"2026-03-01", "2026-03-03", 500, []string{"2026-03-01/2026-03-03"}}, // capped at 90
	}
	for _, tt := range tests {
		got := PlanWindows(d(tt.from), d(tt.to), tt.max)
		var s []string
		for _, sp := range got {
			s = append(s, sp.Start.Format(time.DateOnly)+"/"+sp.End.Format(time.DateOnly))
			if sp.Days() > 90 || sp.Days() < 1 {
				t.Errorf("span %v has %d days", sp, sp.Days())
			}
		}
		if len(s) != len(tt.want) {
			t.Errorf("PlanWindows(%s, %s, %d) = %v, want %v", tt.from, tt.to, tt.max, s, tt.want)
			continue
		}
		for i := range s {
			if s[i] != tt.want[i] {
				t.Errorf("PlanWindows(%s, %s, %d) = %v, want %v", tt.from, tt.to, tt.max, s, tt.want)
				break
			}
		}
	}
}

func TestSpanBoundsNeverShareAMillisecond(t *testing.T) {
	spans := PlanWindows(d("2024-01-01"), d("2025-01-01"), 90)
	for i := 1; i < len(spans); i++ {
		prev, cur := spans[i-1], spans[i]
		if !prev.EndAt().Before(cur.StartAt()) || cur.StartAt().Sub(prev.EndAt()) != time.Millisecond {
			t.Errorf("spans %d and %d: endAt %v, next startAt %v", i-1, i, prev.EndAt(), cur.StartAt())
		}
	}
	if first := spans[0]; first.StartAt().UnixMilli() != d("2024-01-01").UnixMilli() || first.EndAt().UnixMilli() != d("2024-03-31").UnixMilli()-1 {
		t.Errorf("first span [%v, %v]", first.StartAt(), first.EndAt())
	}
}

func TestDay(t *testing.T) {
	in := time.Date(2026, 3, 1, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600))
	if got := Day(in); !got.Equal(d("2026-03-02")) {
		t.Errorf("Day(%v) = %v, want 2026-03-02 UTC", in, got)
	}
}

// Failures win over "temporary": a stop or a spent quota must not hide a
// failed stream behind "retry later".
func TestSummaryStatusPrecedence(t *testing.T) {
	now := d("2026-03-01")
	mk := func() *Summary { return newSummary([]string{"seat", "activity"}, now, now) }
	boom := errors.New("boom")

	s := mk()
	s.unitDone("seat", "c1", nil, nil)
	s.unitDone("activity", "c1", nil, boom)
	s.stopped()
	s.finish(now)
	if s.Status != StatusPartial {
		t.Errorf("failure and stop: %s, want partial", s.Status)
	}

	s = mk()
	s.unitDone("seat", "c1", nil, nil)
	s.unitDone("activity", "c1", nil, &DeferredError{Err: boom})
	s.finish(now)
	if s.Status != StatusTemporary || len(s.Deferred) != 1 {
		t.Errorf("deferred only: %s", s.Status)
	}

	s = mk()
	s.unitDone("seat", "c1", nil, boom)
	s.quota(boom)
	s.finish(now)
	if s.Status != StatusFailed {
		t.Errorf("all failed and quota: %s, want failed", s.Status)
	}

	// A loaded dimension does not turn "every export failed" into partial.
	s = newSummary([]string{"contracts", "seat"}, now, now)
	s.dimensionDone("contracts", nil)
	s.unitDone("seat", "c1", nil, boom)
	s.finish(now)
	if s.Status != StatusFailed {
		t.Errorf("exports all failed, dimension loaded: %s, want failed", s.Status)
	}
	s = newSummary([]string{"contracts", "seat"}, now, now)
	s.dimensionDone("contracts", boom)
	s.unitDone("seat", "c1", nil, nil)
	s.finish(now)
	if s.Status != StatusPartial {
		t.Errorf("dimension failed, exports loaded: %s, want partial", s.Status)
	}

	s = mk()
	s.unitDone("seat", "c1", nil, nil)
	s.unitDone("activity", "c1", nil, errStopped)
	s.stopped()
	s.finish(now)
	if s.Status != StatusTemporary {
		t.Errorf("stop only: %s, want temporary", s.Status)
	}
}
