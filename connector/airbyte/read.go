package airbyte

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// Read is one read: the configured streams, the state passed back, and
// where it writes.
type Read struct {
	W       *Writer
	Streams []ConfiguredStream
	// State is the state passed back (ParseState); full_refresh streams
	// ignore theirs.
	State map[string]connector.StreamState
	// TempDir holds the windows' spooled rows ("": the system's).
	TempDir string
	// Rejects, when set, counts the run's rejected rows once it is over
	// (connector.CountRejects of its rejects directory).
	Rejects func() ([]connector.RejectCount, error)
	Log     *slog.Logger
}

// Run reads: a STARTED status for each stream; the run, whose committed
// windows come out as RECORD messages each followed by its stream's
// STATE (RUNNING as a stream starts reading); rejected rows counted in a
// LOG (WARN) and an ANALYTICS trace (rejected_rows), never sent; a STATE
// of each stream that emitted none; an ERROR trace per failure (a
// config_error where the credentials were refused, transient_error for a
// spent quota or a stop, system_error otherwise); and a COMPLETE or
// INCOMPLETE status for each stream. A stream deferred because LinkedIn's
// data is late is COMPLETE (its state stays; the next sync tries again).
// It returns what run returned.
func (r *Read) Run(ctx context.Context, run connector.RunFunc) (*pipeline.Summary, error) {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	seed := map[string]connector.StreamState{}
	names := make([]string, len(r.Streams))
	for i, cs := range r.Streams {
		names[i] = cs.Stream.Name
		st, ok := r.State[cs.Stream.Name]
		switch {
		case ok && cs.Incremental:
			seed[cs.Stream.Name] = st
		case ok:
			log.Info("full refresh: the stream's state is set aside, reading from start_date", "stream", cs.Stream.Name)
		}
	}
	state := connector.NewState(seed, func(stream string, st connector.StreamState, _ map[string]connector.StreamState) error {
		return r.W.State(stream, st)
	}, r.W.now)
	sink := connector.NewSink(connector.SinkConfig{Out: r.W.Out, Frame: r.W, TempDir: r.TempDir, Now: r.W.now,
		Hooks: connector.Hooks{
			Reading:         func(stream string) { _ = r.W.Status(stream, Running) },
			DimensionLoaded: func(stream string) error { return state.Emit(stream) },
		}})
	for _, n := range names {
		if err := r.W.Status(n, Started); err != nil {
			return nil, err
		}
	}
	sum, err := run(ctx, sink, state)
	werr := r.finish(log, state, names, sum, err)
	if err == nil {
		err = werr
	}
	return sum, err
}

// finish writes what follows the run: rejects, the states not emitted
// yet, errors and the streams' statuses.
func (r *Read) finish(log *slog.Logger, state *connector.State, names []string, sum *pipeline.Summary, runErr error) error {
	var errs []error
	if r.Rejects != nil {
		counts, err := r.Rejects()
		if err != nil {
			log.Warn("counting rejected rows", "error", err)
		}
		for _, n := range names {
			if line, rows := connector.RejectSummary(n, counts); rows > 0 {
				log.Warn(line)
				errs = append(errs, r.W.Analytics("rejected_rows", fmt.Sprintf("%s:%d", n, rows)))
			}
		}
	}
	errs = append(errs, state.Emit(names...))
	if sum == nil {
		msg := "the read could not start"
		if runErr != nil {
			msg += ": " + runErr.Error()
		}
		errs = append(errs, r.W.Error("", msg, errText(runErr), FailureType(runErr)))
	} else {
		for _, d := range sum.Deferred {
			log.Warn("deferred to the next sync: LinkedIn's data is not ready", "stream", d.Stream, "contract", d.Contract, "error", d.Error)
		}
		for _, e := range sum.Errors {
			errs = append(errs, r.W.Error(e.Stream, unitMessage(e), e.Error, FailureType(e.Cause)))
		}
		if sum.QuotaResetAt != nil {
			errs = append(errs, r.W.Error("", "LinkedIn's API quota is spent; it resets at "+sum.QuotaResetAt.Format(time.RFC3339)+
				" (midnight UTC). The state is saved: the next sync goes on from here.", errText(runErr), TransientError))
		}
		if sum.Stopped {
			errs = append(errs, r.W.Error("", "the read was stopped (SIGTERM); the state is saved: the next sync goes on from here", "", TransientError))
		}
	}
	for _, n := range names {
		status := Complete
		if unfinished(sum, n) {
			status = Incomplete
		}
		errs = append(errs, r.W.Status(n, status))
	}
	return errors.Join(errs...)
}

// unfinished reports whether stream did not read everything up to the
// end: the run did not start, met a spent quota or a stop, or failed for
// the stream (or as a whole).
func unfinished(sum *pipeline.Summary, stream string) bool {
	if sum == nil || sum.QuotaResetAt != nil || sum.Stopped {
		return true
	}
	for _, e := range sum.Errors {
		if e.Stream == stream || e.Stream == "" {
			return true
		}
	}
	return false
}

// unitMessage words a failure for the platform's user.
func unitMessage(e pipeline.UnitError) string {
	var where []string
	if e.Stream != "" {
		where = append(where, "stream "+e.Stream)
	}
	if e.Contract != "" {
		where = append(where, e.Contract)
	}
	if e.Window != "" {
		where = append(where, "window "+e.Window)
	}
	msg := e.Error
	if FailureType(e.Cause) == ConfigError {
		msg = "the API refused the configuration's credentials: " + msg
	}
	if len(where) == 0 {
		return msg
	}
	return strings.Join(where, ", ") + ": " + msg
}

// FailureType classifies an error for an ERROR trace: config_error when
// the API refused the credentials (the user's to fix), transient_error
// when time cures it (a spent quota, a cancelled read), system_error
// otherwise.
func FailureType(err error) string {
	switch {
	case errors.Is(err, extract.ErrUnauthorized), errors.Is(err, extract.ErrForbidden),
		errors.Is(err, extract.ErrNoMemberToken), errors.Is(err, extract.ErrTokenRedirect):
		return ConfigError
	case errors.Is(err, extract.ErrQuotaExhausted), errors.Is(err, extract.ErrRateLimited),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return TransientError
	}
	return SystemError
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
