package fakeapi

import (
	"hash/fnv"
	"strconv"
)

const (
	msPerDay      = int64(86_400_000)
	seatsPerSeat  = 25                   // seats per contract
	outcomeMaxLag = int64(6 * 3_600_000) // an outcome follows its InMail within 6 h
)

// ActivityTypes are the documented activity types, in the fake's order.
var ActivityTypes = []string{
	"SAVED_LEAD", "SAVED_ACCOUNT", "SEARCH_PERFORMED", "PROFILE_VIEWED",
	"INMAIL_SENT", "MESSAGE_SENT", "CONNECTION_MADE",
}

// OutcomeTypes are the fake's activity outcome types. LinkedIn does not
// list them: ASSUMPTION.
var OutcomeTypes = []string{"INMAIL_ACCEPTED", "INMAIL_DECLINED", "INMAIL_NO_RESPONSE"}

// Activity is one row of the activity export.
type Activity struct {
	ActivityID        string
	ActivityType      string
	CreatedAt         int64 // ms since the epoch, whole seconds
	SeatID            int64
	MemberIdentityKey string // "" when absent
}

// Outcome is one row of the activity outcome export. Only activityId and
// activityType are documented; createdAt and seatId are ASSUMPTIONS.
type Outcome struct {
	ActivityID   string
	ActivityType string
	CreatedAt    int64
	SeatID       int64
}

// Seat is one row of the seat export. Every column name is an ASSUMPTION:
// LinkedIn documents the content (name, seat status, SSI, connections),
// not the columns.
type Seat struct {
	SeatID                                   int64
	FirstName, LastName, SeatStatus          string
	SSI, Brand, FindPeople, Insights, Relate float64
	TotalConnections                         int64
}

// Data generates the fake's rows: a pure function of the seed, the
// contract and time, so any window returns exactly the rows whose time
// falls inside it, always with the same ids.
type Data struct {
	Seed       int64
	RowsPerDay int
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (d Data) h(parts ...uint64) uint64 {
	x := splitmix(uint64(d.Seed))
	for _, p := range parts {
		x = splitmix(x ^ p)
	}
	return x
}

func contractKey(urn string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(urn))
	return f.Sum64()
}

// floorDay returns the day number (days since the epoch) of ms.
func floorDay(ms int64) int64 {
	d := ms / msPerDay
	if ms%msPerDay < 0 {
		d--
	}
	return d
}

// rowsOn returns the number of activities of a contract on a day: the
// configured rows per day ±20%.
func (d Data) rowsOn(ck uint64, day int64) int {
	if d.RowsPerDay <= 0 {
		return 0
	}
	n := d.RowsPerDay * (80 + int(d.h(ck, uint64(day), 1)%41)) / 100
	if n < 1 {
		n = 1
	}
	return n
}

// seatBase is the first seat id of a contract.
func seatBase(ck uint64) int64 { return 7_000_000 + int64(ck%1000)*1000 }

// Activities calls yield for each activity of contract whose createdAt is
// in the closed range [startMs, endMs], in time order, until yield returns
// false.
func (d Data) Activities(contract string, startMs, endMs int64, yield func(Activity) bool) {
	ck := contractKey(contract)
	for day := floorDay(startMs); day <= floorDay(endMs); day++ {
		if !d.activitiesOn(ck, day, startMs, endMs, yield) {
			return
		}
	}
}

func (d Data) activitiesOn(ck uint64, day, startMs, endMs int64, yield func(Activity) bool) bool {
	n := int64(d.rowsOn(ck, day))
	for i := int64(0); i < n; i++ {
		h := d.h(ck, uint64(day), uint64(i), 2)
		// Monotone in i: second = floor((i + u) * 86400 / n), u in [0,1).
		sec := (i*1000 + int64(h%1000)) * 86400 / (n * 1000)
		t := day*msPerDay + sec*1000
		if t < startMs {
			continue
		}
		if t > endMs {
			return false
		}
		typ := ActivityTypes[(h>>10)%uint64(len(ActivityTypes))]
		a := Activity{
			ActivityID:   strconv.FormatUint(d.h(ck, uint64(day), uint64(i), 3), 16),
			ActivityType: typ,
			CreatedAt:    t,
			SeatID:       seatBase(ck) + int64((h>>20)%seatsPerSeat),
		}
		if typ != "SAVED_ACCOUNT" && typ != "SEARCH_PERFORMED" {
			a.MemberIdentityKey = "urn:li:member:" + strconv.FormatUint((h>>30)%1_000_000_000, 10)
		}
		if !yield(a) {
			return false
		}
	}
	return true
}

// Outcomes calls yield for each outcome whose createdAt is in the closed
// range [startMs, endMs]. Every InMail gets one outcome, up to 6 hours
// after it.
func (d Data) Outcomes(contract string, startMs, endMs int64, yield func(Outcome) bool) {
	ck := contractKey(contract)
	d.Activities(contract, startMs-outcomeMaxLag, endMs, func(a Activity) bool {
		if a.ActivityType != "INMAIL_SENT" {
			return true
		}
		h := d.h(ck, contractKey(a.ActivityID), 4)
		t := a.CreatedAt + int64(h%uint64(outcomeMaxLag/1000))*1000
		if t < startMs || t > endMs {
			return true
		}
		o := Outcome{ActivityID: a.ActivityID, ActivityType: OutcomeTypes[(h>>20)%uint64(len(OutcomeTypes))], CreatedAt: t, SeatID: a.SeatID}
		return yield(o)
	})
}

var firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"}
var lastNames = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "O'Brien, Jr."}

// Seats returns the seat snapshot of contract for the window ending at
// endMs: one row per seat, with scores that move from day to day.
func (d Data) Seats(contract string, endMs int64) []Seat {
	ck := contractKey(contract)
	day := floorDay(endMs)
	out := make([]Seat, seatsPerSeat)
	for s := range seatsPerSeat {
		h := d.h(ck, uint64(s), 5)
		hd := d.h(ck, uint64(s), uint64(day), 6)
		sub := func(shift uint) float64 { return float64(int((h>>shift)%2000)+int((hd>>shift)%100)) / 100 } // 0..20.99
		st := Seat{
			SeatID:           seatBase(ck) + int64(s),
			FirstName:        firstNames[h%uint64(len(firstNames))],
			LastName:         lastNames[(h>>8)%uint64(len(lastNames))],
			SeatStatus:       "ACTIVE",
			Brand:            sub(16),
			FindPeople:       sub(24),
			Insights:         sub(32),
			Relate:           sub(40),
			TotalConnections: int64(200+(h>>48)%3000) + (day-19000)%500,
		}
		if (h>>4)%10 == 0 {
			st.SeatStatus = "INACTIVE"
		}
		st.SSI = st.Brand + st.FindPeople + st.Insights + st.Relate
		out[s] = st
	}
	return out
}

// CRMRecord is one row of the CRM data validation export. LinkedIn does not
// publish its columns: every name here is an ASSUMPTION.
type CRMRecord struct {
	RecordID, RecordType, FirstName, LastName, CRMCompany, LinkedInCompany string
	DetectedAt                                                             int64
}

// CRMRecords returns the validation findings of a CRM instance detected in
// [startMs, endMs): two per hour.
func (d Data) CRMRecords(instance string, startMs, endMs int64) []CRMRecord {
	ik := contractKey(instance)
	const perHour = 2
	var out []CRMRecord
	for hr := startMs / 3_600_000; hr*3_600_000 < endMs; hr++ {
		for k := range perHour {
			t := hr*3_600_000 + int64(k)*1_800_000
			if t < startMs || t >= endMs {
				continue
			}
			h := d.h(ik, uint64(hr), uint64(k), 7)
			typ := "CONTACT"
			if h%3 == 0 {
				typ = "LEAD"
			}
			out = append(out, CRMRecord{
				RecordID:        "003" + strconv.FormatUint(h%1_000_000_000_000, 36),
				RecordType:      typ,
				FirstName:       firstNames[(h>>8)%uint64(len(firstNames))],
				LastName:        lastNames[(h>>16)%uint64(len(lastNames))],
				CRMCompany:      "Initech",
				LinkedInCompany: "Globex, Inc.",
				DetectedAt:      t,
			})
		}
	}
	return out
}

// appendExportTime appends ms as "MM-DD-YYYY HH:MM:SS" (UTC).
func appendExportTime(b []byte, ms int64) []byte {
	day := floorDay(ms)
	sec := (ms - day*msPerDay) / 1000
	y, m, dd := civilFromDays(day)
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, dd)
	b = append(b, '-')
	b = append2(b, y/100)
	b = append2(b, y%100)
	b = append(b, ' ')
	b = append2(b, int(sec/3600))
	b = append(b, ':')
	b = append2(b, int(sec/60%60))
	b = append(b, ':')
	b = append2(b, int(sec%60))
	return b
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

// civilFromDays converts days since the epoch to a Gregorian date
// (Howard Hinnant's algorithm).
func civilFromDays(z int64) (int, int, int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}
