package fakeapi

import (
	"regexp"
	"testing"
	"time"
)

func TestActivitiesArePureFunctionsOfTime(t *testing.T) {
	d := Data{Seed: 7, RowsPerDay: 500}
	const c = "urn:li:salesContract:1001"
	day := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC).UnixMilli()
	collect := func(start, end int64) map[string]Activity {
		out := map[string]Activity{}
		last := int64(-1 << 62)
		d.Activities(c, start, end, func(a Activity) bool {
			if a.CreatedAt < start || a.CreatedAt > end {
				t.Fatalf("row at %d outside [%d, %d]", a.CreatedAt, start, end)
			}
			if a.CreatedAt < last {
				t.Fatalf("rows out of time order")
			}
			last = a.CreatedAt
			if _, dup := out[a.ActivityID]; dup {
				t.Fatalf("duplicate id %s", a.ActivityID)
			}
			out[a.ActivityID] = a
			return true
		})
		return out
	}
	whole := collect(day, day+3*msPerDay-1)
	if len(whole) < 3*400 || len(whole) > 3*600 {
		t.Fatalf("%d rows over 3 days at 500/day ±20%%", len(whole))
	}
	// Any split of the range into closed windows gives the same rows.
	split := day + msPerDay + 12345678
	a, b := collect(day, split), collect(split+1, day+3*msPerDay-1)
	if len(a)+len(b) != len(whole) {
		t.Fatalf("split windows hold %d+%d rows, whole %d", len(a), len(b), len(whole))
	}
	for id, row := range a {
		if whole[id] != row {
			t.Fatalf("row %s differs between windows", id)
		}
	}
	for id, row := range b {
		if whole[id] != row {
			t.Fatalf("row %s differs between windows", id)
		}
	}
	// Another seed is another data set.
	other := Data{Seed: 8, RowsPerDay: 500}
	same := 0
	other.Activities(c, day, day+msPerDay-1, func(x Activity) bool {
		if _, ok := whole[x.ActivityID]; ok {
			same++
		}
		return true
	})
	if same != 0 {
		t.Errorf("%d ids shared between seeds", same)
	}
}

func TestOutcomesFollowInMails(t *testing.T) {
	d := Data{Seed: 1, RowsPerDay: 300}
	const c = "urn:li:salesContract:1002"
	start := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC).UnixMilli()
	end := start + 2*msPerDay - 1
	inmails := map[string]int64{}
	d.Activities(c, start-outcomeMaxLag, end, func(a Activity) bool {
		if a.ActivityType == "INMAIL_SENT" {
			inmails[a.ActivityID] = a.CreatedAt
		}
		return true
	})
	n := 0
	d.Outcomes(c, start, end, func(o Outcome) bool {
		n++
		sent, ok := inmails[o.ActivityID]
		if !ok || o.CreatedAt < sent || o.CreatedAt-sent >= outcomeMaxLag || o.CreatedAt < start || o.CreatedAt > end {
			t.Fatalf("outcome %+v does not follow an InMail in the window", o)
		}
		return true
	})
	if n == 0 {
		t.Fatal("no outcomes")
	}
}

func TestExportTimeFormat(t *testing.T) {
	re := regexp.MustCompile(`^\d\d-\d\d-\d{4} \d\d:\d\d:\d\d$`)
	for _, tm := range []time.Time{
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
		time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC),
	} {
		got := string(appendExportTime(nil, tm.UnixMilli()))
		if want := tm.Format("01-02-2006 15:04:05"); got != want || !re.MatchString(got) {
			t.Errorf("appendExportTime(%v) = %q, want %q", tm, got, want)
		}
	}
}

func TestSeatsSnapshot(t *testing.T) {
	d := Data{Seed: 3}
	end := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC).UnixMilli()
	s1, s2 := d.Seats("c", end), d.Seats("c", end)
	if len(s1) != seatsPerSeat || s1[3] != s2[3] {
		t.Fatalf("seat snapshot is not deterministic")
	}
	if next := d.Seats("c", end+msPerDay); next[3].SSI == s1[3].SSI && next[4].SSI == s1[4].SSI && next[5].SSI == s1[5].SSI {
		t.Error("scores never move from day to day")
	}
}
