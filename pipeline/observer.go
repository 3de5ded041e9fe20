package pipeline

import "time"

// Observer is told how a run goes, for progress displays and metrics. Its
// methods are called from many goroutines and must be quick; they must not
// block the run.
type Observer interface {
	// Progress reports rows parsed (loaded or rejected) and bytes downloaded
	// since the last call for the stream.
	Progress(stream string, rows, bytes int64)
	// JobWaited reports how long an export job took from its creation (or
	// resumption) to COMPLETED.
	JobWaited(stream string, d time.Duration)
}

type nopObserver struct{}

func (nopObserver) Progress(string, int64, int64)   {}
func (nopObserver) JobWaited(string, time.Duration) {}

// progressMeter turns a reader's running totals into Progress deltas.
type progressMeter struct {
	obs        Observer
	stream     string
	rows, read int64
}

// update reports what rows (parsed so far) and read (bytes so far) added.
func (m *progressMeter) update(rows, read int64) {
	if dr, db := rows-m.rows, read-m.read; dr > 0 || db > 0 {
		m.obs.Progress(m.stream, dr, db)
		m.rows, m.read = rows, read
	}
}
