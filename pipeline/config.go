package pipeline

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// Config configures a run.
type Config struct {
	// Streams to run, in order (per contract, one job at a time). The
	// contracts dimension loads first; CRM validation runs per CRM
	// instance beside the contracts; profile associations run last.
	Streams []*schema.Stream
	// CRMInstances are the urn:li:crmInstance:(PARTNER,ID) URNs whose CRM
	// data validation exports are loaded (per-export streams).
	CRMInstances []string
	// AssociationKeys are looked up by the profile associations stream,
	// besides the CRM records of the loaded CRM validation data.
	AssociationKeys []extract.AssociationKey
	// AssociationBatch is how many keys one lookup asks for (default
	// DefaultAssociationBatch, at most MaxAssociationBatch).
	AssociationBatch int
	// AssociationRecheck is how long a key without a match stays
	// unasked (default DefaultAssociationRecheck); negative: asked again
	// every run.
	AssociationRecheck time.Duration
	// Start is the first day loaded by a (stream, contract) with no cursor,
	// or of a backfill.
	Start time.Time
	// End is the exclusive last day of this run, a whole UTC day.
	End time.Time
	// Backfill loads [Start, End) whatever the cursors say, and neither
	// reads nor moves them (nor records jobs in flight).
	Backfill bool
	// LookbackDays re-extracts that many days before the cursor, when
	// there are new days to load, to catch late data.
	LookbackDays int
	// MaxRejectRatio is the share of rejected rows a window may have and
	// still load (0 means none).
	MaxRejectRatio float64
	// RejectsDir receives rejected rows as JSON Lines.
	RejectsDir string
	// RejectsStorage, when set, receives them instead (a bucket): each
	// file is uploaded whole when its window ends.
	RejectsStorage storage.Storage
	// Concurrency is how many contracts run at once (default 2).
	Concurrency int
	// WindowDays caps a window (default and maximum 90).
	WindowDays int
	// PollInitial, PollMax: polling starts at PollInitial and doubles up
	// to PollMax (defaults 2s and 1m).
	PollInitial, PollMax time.Duration
	// JobTimeout bounds the wait for one export job (default 3h).
	JobTimeout time.Duration
	// JobRetries is how many times a job that failed with TIMED_OUT or
	// INTERNAL_ERROR is created again (0: the default 3; negative: never),
	// waiting RetryDelay, doubling, before each (default 1m).
	JobRetries int
	RetryDelay time.Duration
	// DownloadAttempts bounds the tries of one job's file: an expired URL,
	// a dropped connection or a short file fetch a fresh URL and try again
	// (default 3).
	DownloadAttempts int
	// BatchSize is rows per record batch (default transform's).
	BatchSize int
	// InvalidUTF8 is what a string field that is not valid UTF-8 does to
	// its row: rejected (the default) or repaired with U+FFFD, and counted
	// (StreamSummary.Repaired).
	InvalidUTF8 transform.InvalidUTF8
	// MaxRecordSize bounds one CSV record of an export, in bytes (default
	// transform.DefaultMaxRecordSize): a larger one fails its window with
	// transform.ErrRecordTooLarge naming the line.
	MaxRecordSize int64
	// Stop, when closed, stops the run gracefully: no new window starts,
	// a job being polled is left in flight (resumed next run), a window
	// being loaded finishes (the caller cancels ctx to abandon it).
	Stop <-chan struct{}
	// Shard is this run's share of the contracts and CRM instances (see
	// Shard; the zero value takes all).
	Shard Shard
	// Observer, when set, is told of progress (rows, bytes) and job waits.
	Observer  Observer
	Allocator memory.Allocator
	Logger    *slog.Logger
	Now       func() time.Time
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if len(c.Streams) == 0 {
		errs = append(errs, errors.New("no streams"))
	}
	if c.End.IsZero() {
		errs = append(errs, errors.New("end is not set"))
	}
	if !c.Start.IsZero() && !c.End.IsZero() && !c.Start.Before(c.End) {
		errs = append(errs, fmt.Errorf("start %s is not before end %s", c.Start.Format(time.DateOnly), c.End.Format(time.DateOnly)))
	}
	if c.Backfill && c.Start.IsZero() {
		errs = append(errs, errors.New("a backfill needs a start"))
	}
	if c.MaxRejectRatio < 0 || c.MaxRejectRatio > 1 {
		errs = append(errs, fmt.Errorf("max reject ratio %v is not in [0, 1]", c.MaxRejectRatio))
	}
	if c.RejectsDir == "" && c.RejectsStorage == nil {
		errs = append(errs, errors.New("rejects directory is not set"))
	}
	if c.WindowDays < 0 || c.WindowDays > MaxWindowDays {
		errs = append(errs, fmt.Errorf("window days %d is not in [1, %d]", c.WindowDays, MaxWindowDays))
	}
	if c.LookbackDays < 0 {
		errs = append(errs, fmt.Errorf("lookback %d days is negative", c.LookbackDays))
	}
	for _, st := range c.Streams {
		if st.PerExport() && len(c.CRMInstances) == 0 {
			errs = append(errs, fmt.Errorf("stream %s needs at least one CRM instance", st.Name))
		}
	}
	if err := c.Shard.Validate(); err != nil {
		errs = append(errs, err)
	}
	for _, urn := range c.CRMInstances {
		if _, _, err := ParseCRMInstance(urn); err != nil {
			errs = append(errs, fmt.Errorf("CRM instance: %w", err))
		}
	}
	if c.AssociationBatch < 0 || c.AssociationBatch > MaxAssociationBatch {
		errs = append(errs, fmt.Errorf("association batch %d is not in [1, %d]", c.AssociationBatch, MaxAssociationBatch))
	}
	if c.MaxRecordSize < 0 {
		errs = append(errs, errors.New("max record size must not be negative"))
	}
	if c.DownloadAttempts < 0 {
		errs = append(errs, errors.New("download attempts must not be negative"))
	}
	return errors.Join(errs...)
}
