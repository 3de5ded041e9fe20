package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/lease"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
)

// Lease names in the dataset root: a lock file on a local directory, a
// lease object in a bucket; a shard's carry its index as its state file
// does (_lock.shard-2, _lease.shard-2.json).
const (
	lockFileName    = "_lock"
	leaseObjectName = "_lease.json"
)

// takeLeases takes the Parquet output's leases of the state files named
// (a run's own; state reset also its peers'), in the order of their
// shards, waiting up to cfg.LockWait for each, before anything of the
// output is touched. ClickHouse takes none: overlapping loads are safe
// there (docs/clickhouse.md). When one is held, those taken are given
// back, the holder is logged, and the error is lease.ErrHeld. release
// gives every lease back; call it after the sink and state are closed.
func takeLeases(ctx context.Context, cfg *Config, log *slog.Logger, statePaths ...string) (release func(), err error) {
	if cfg.Sink == "clickhouse" {
		return func() {}, nil
	}
	var shards []int
	for _, p := range statePaths {
		if i := load.StateShard(p); !slices.Contains(shards, i) {
			shards = append(shards, i)
		}
	}
	slices.Sort(shards)
	var (
		held   []lease.Lease
		bucket *storage.BlobStorage
	)
	release = func() {
		// The work may have been cancelled: the leases still go back.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for _, l := range slices.Backward(held) {
			if err := l.Release(rctx); err != nil {
				log.Error("releasing the output's lease", "error", err)
			}
		}
		if bucket != nil {
			bucket.Close()
		}
	}
	if storage.IsURL(cfg.Parquet.Dir) {
		if bucket, err = storage.OpenBlobStorage(ctx, cfg.Parquet.Dir, cfg.Blob); err != nil {
			return nil, err
		}
	}
	for _, i := range shards {
		var locker lease.Locker = &lease.File{Path: filepath.Join(cfg.Parquet.Dir, lease.NameFor(lockFileName, i)), Logger: log}
		if bucket != nil {
			locker = &lease.Blob{Objects: bucket, Name: lease.NameFor(leaseObjectName, i), Logger: log}
		}
		l, err := locker.Acquire(ctx, cfg.LockWait)
		var heldErr *lease.HeldError
		if errors.As(err, &heldErr) {
			log.Warn("output in use by another run: standing aside, retry later",
				append([]any{"lease", heldErr.Name, "waited", cfg.LockWait.String()}, heldErr.Holder.LogAttrs()...)...)
		}
		if err != nil {
			release()
			return nil, fmt.Errorf("taking the output's lease: %w", err)
		}
		held = append(held, l)
	}
	return release, nil
}

// leaseExit is the exit of a command that could not take the output's
// lease: 75 when another run holds it, else 1.
func leaseExit(err error) error {
	if errors.Is(err, lease.ErrHeld) {
		return &exitError{ExitTemporary, err}
	}
	return &exitError{ExitFailure, err}
}
