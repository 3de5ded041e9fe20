package fakeapi

import (
	"bufio"
	"encoding/csv"
	"strconv"
	"time"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Export is the fake's data of one analytics export action: what a job of
// it holds and its CSV file. The built-in streams' exports are the fake's
// own; Config.Exports adds others (a stream a test declares).
type Export interface {
	// Rows counts the rows of contract's export over [startMs, endMs] (the
	// job's rowCount).
	Rows(d Data, contract string, startMs, endMs int64) int64
	// WriteCSV writes the export's file, header row first.
	WriteCSV(w *bufio.Writer, d Data, contract string, startMs, endMs int64) error
}

// RecordsExport is an Export of a stream's rows given as CSV records, in
// the order of the stream's columns: the header is the stream's.
type RecordsExport struct {
	Stream *schema.Stream
	// Records returns the rows of contract's export over [startMs, endMs].
	Records func(contract string, startMs, endMs int64) [][]string
}

// Rows counts Records.
func (e RecordsExport) Rows(_ Data, contract string, startMs, endMs int64) int64 {
	return int64(len(e.Records(contract, startMs, endMs)))
}

// WriteCSV writes the stream's header, then Records.
func (e RecordsExport) WriteCSV(w *bufio.Writer, _ Data, contract string, startMs, endMs int64) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(e.Stream.ColumnNames())
	for _, rec := range e.Records(contract, startMs, endMs) {
		_ = cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// ExportTime formats t as the exports write times: "MM-DD-YYYY HH:MM:SS",
// UTC.
func ExportTime(t time.Time) string { return string(appendExportTime(nil, t.UnixMilli())) }

// builtinExports are the exports of the built-in analytics streams, by
// action.
func builtinExports() map[string]Export {
	return map[string]Export{
		schema.Activity.Action:        eventExport[Activity]{st: schema.Activity, each: Data.Activities, row: appendActivity},
		schema.ActivityOutcome.Action: eventExport[Outcome]{st: schema.ActivityOutcome, each: Data.Outcomes, row: appendOutcome},
		schema.Seat.Action:            seatExport{},
	}
}

// chunked writes rows into w through a buffer the writer flushes once it
// holds 64 KiB.
type chunked struct {
	w   *bufio.Writer
	buf []byte
	err error
}

func (c *chunked) put() bool {
	if _, err := c.w.Write(c.buf); err != nil {
		c.err = err
		return false
	}
	c.buf = c.buf[:0]
	return true
}

func (c *chunked) flush() error {
	if c.err == nil && len(c.buf) > 0 {
		c.put()
	}
	return c.err
}

// eventExport is an export of events with their own dates, each row
// appended as CSV text (fast: a benchmark's files are made this way).
type eventExport[T any] struct {
	st   *schema.Stream
	each func(d Data, contract string, startMs, endMs int64, yield func(T) bool)
	row  func(buf []byte, v T) []byte
}

func (e eventExport[T]) Rows(d Data, contract string, startMs, endMs int64) int64 {
	var n int64
	e.each(d, contract, startMs, endMs, func(T) bool { n++; return true })
	return n
}

func (e eventExport[T]) WriteCSV(w *bufio.Writer, d Data, contract string, startMs, endMs int64) error {
	c := &chunked{w: w}
	c.buf = append(c.buf, e.st.CSVHeader()...)
	e.each(d, contract, startMs, endMs, func(v T) bool {
		c.buf = e.row(c.buf, v)
		return len(c.buf) < 64<<10 || c.put()
	})
	return c.flush()
}

func appendActivity(buf []byte, a Activity) []byte {
	buf = append(buf, a.ActivityID...)
	buf = append(buf, ',')
	buf = append(buf, a.ActivityType...)
	buf = append(buf, ',')
	buf = appendExportTime(buf, a.CreatedAt)
	buf = append(buf, ',')
	buf = strconv.AppendInt(buf, a.SeatID, 10)
	buf = append(buf, ',')
	buf = append(buf, a.MemberIdentityKey...)
	return append(buf, '\n')
}

func appendOutcome(buf []byte, o Outcome) []byte {
	buf = append(buf, o.ActivityID...)
	buf = append(buf, ',')
	buf = append(buf, o.ActivityType...)
	buf = append(buf, ',')
	buf = appendExportTime(buf, o.CreatedAt)
	buf = append(buf, ',')
	buf = strconv.AppendInt(buf, o.SeatID, 10)
	return append(buf, '\n')
}

// seatExport is a snapshot: the seats as of the window's end.
type seatExport struct{}

func (seatExport) Rows(d Data, contract string, _, endMs int64) int64 {
	return int64(len(d.Seats(contract, endMs)))
}

func (seatExport) WriteCSV(w *bufio.Writer, d Data, contract string, _, endMs int64) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(schema.Seat.ColumnNames())
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	for _, st := range d.Seats(contract, endMs) {
		_ = cw.Write([]string{strconv.FormatInt(st.SeatID, 10), st.FirstName, st.LastName, st.SeatStatus,
			f(st.SSI), f(st.Brand), f(st.FindPeople), f(st.Insights), f(st.Relate), strconv.FormatInt(st.TotalConnections, 10)})
	}
	cw.Flush()
	return cw.Error()
}
