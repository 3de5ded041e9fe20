package pipeline

import (
	"time"
)

// MaxWindowDays is the longest range one export may cover (LinkedIn: 90
// days per query).
const MaxWindowDays = 90

// Span is a range of whole UTC days: Start inclusive, End exclusive.
type Span struct {
	Start, End time.Time
}

// StartAt is the first millisecond of the span, the export's startAt.
func (s Span) StartAt() time.Time { return s.Start }

// EndAt is the last millisecond of the span, the export's endAt: the API
// range is closed, so consecutive spans never share a millisecond.
func (s Span) EndAt() time.Time { return s.End.Add(-time.Millisecond) }

// Days is the number of days in the span.
func (s Span) Days() int { return int(s.End.Sub(s.Start) / (24 * time.Hour)) }

// Day truncates t to its UTC day.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// PlanWindows splits [from, to) (truncated to UTC days) into consecutive
// spans of at most maxDays days. It returns nil when from is not before to.
func PlanWindows(from, to time.Time, maxDays int) []Span {
	if maxDays <= 0 || maxDays > MaxWindowDays {
		maxDays = MaxWindowDays
	}
	from, to = Day(from), Day(to)
	var out []Span
	for s := from; s.Before(to); {
		e := s.AddDate(0, 0, maxDays)
		if e.After(to) {
			e = to
		}
		out = append(out, Span{Start: s, End: e})
		s = e
	}
	return out
}
