// Package lease keeps one run at a time per output: a run takes its
// output's lease before it touches anything (the sink's staging files, the
// state file) and releases it at its end. Two runs started at once on one
// Parquet output would otherwise delete each other's staging files and
// rewrite each other's state from memory.
//
// A local directory's lease is an exclusive OS lock (flock) on a lock file
// in the dataset root (File): the system drops it when the process dies,
// however it dies. An object store has no such lock: its lease is an
// object created only when absent, renewed while the run lives and
// expiring a bounded time after the last renewal (Blob), so that a killed
// run's lease lapses.
//
// A sharded run holds the lease of its own shard (NameFor): shards never
// share a contract, a partition or a state file.
package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// Holder is who holds a lease: written into the lease by its holder, read
// by a contender to name it.
type Holder struct {
	Host  string    `json:"host"`
	PID   int       `json:"pid"`
	Since time.Time `json:"since"`
}

// String names the holder for people: "pid 42 on host-a since
// 2026-03-09T03:30:00Z".
func (h Holder) String() string {
	if h.Host == "" && h.PID == 0 {
		return "a run that has not written its identity yet"
	}
	return fmt.Sprintf("pid %d on %s since %s", h.PID, h.Host, h.Since.UTC().Format(time.RFC3339))
}

// LogAttrs are the holder's structured log keys: holder_host, holder_pid
// and holder_since.
func (h Holder) LogAttrs() []any {
	return []any{"holder_host", h.Host, "holder_pid", h.PID, "holder_since", h.Since.UTC().Format(time.RFC3339)}
}

// Self is this process as a holder since now.
func Self(now time.Time) Holder {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return Holder{Host: host, PID: os.Getpid(), Since: now.UTC().Truncate(time.Second)}
}

// parseHolder reads a holder written by writeHolder; anything else (an
// empty file: its holder has not written it yet) is the zero Holder.
func parseHolder(raw []byte) Holder {
	var h Holder
	_ = json.Unmarshal(raw, &h)
	return h
}

// Lease is a lease held. Its holder releases it once, at the end of its
// work; a process that dies without releasing loses it as its kind says
// (File: at once; Blob: when it expires).
type Lease interface {
	// Release gives the lease up. It is meant to run whatever ctx the
	// work had: pass a context that is not cancelled (a short timeout).
	Release(ctx context.Context) error
}

// Locker takes a lease.
type Locker interface {
	// Acquire takes the lease. When another run holds it, Acquire tries
	// again every poll interval until wait has passed (0: once), then
	// returns a *HeldError (errors.Is ErrHeld) naming the holder.
	// Cancelling ctx stops the waiting (ctx's error); ctx bounds only the
	// acquisition: a lease taken lives until Release.
	Acquire(ctx context.Context, wait time.Duration) (Lease, error)
}

// DefaultPoll is how often a contender that waits tries again.
const DefaultPoll = time.Second

// NameFor is the lease name of shard i (i < 0: an unsharded run) beside
// base, built as the state files are: _lock, _lock.shard-2;
// _lease.json, _lease.shard-2.json.
func NameFor(base string, i int) string {
	if i < 0 {
		return base
	}
	ext := path.Ext(base)
	if ext == base { // a hidden-looking name such as "_lock" has none
		ext = ""
	}
	return strings.TrimSuffix(base, ext) + ".shard-" + strconv.Itoa(i) + ext
}

// retry calls try until it returns a lease or an error that is not
// ErrHeld, or until wait has passed since the first try (by now), polling
// every poll; it logs once when it starts waiting.
func retry(ctx context.Context, wait, poll time.Duration, now func() time.Time, log *slog.Logger, try func(context.Context) (Lease, error)) (Lease, error) {
	deadline := now().Add(wait)
	logged := false
	for {
		l, err := try(ctx)
		var held *HeldError
		if err == nil || !errors.As(err, &held) {
			return l, err
		}
		if !now().Before(deadline) {
			return nil, err
		}
		if !logged {
			logged = true
			log.Info("waiting for the lease", append([]any{"lease", held.Name, "wait", wait.String()}, held.Holder.LogAttrs()...)...)
		}
		t := time.NewTimer(min(poll, deadline.Sub(now())))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for the lease %s: %w", held.Name, ctx.Err())
		case <-t.C:
		}
	}
}

func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
