package lease

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/salesnav-etl/salesnav-etl/load/storage"
)

// File is the lease of a local directory: an exclusive flock on the lock
// file at Path (created when missing, never removed: removing a lock file
// another process has open would let two runs lock two files). The system
// releases the lock when its holder dies, however it dies (SIGKILL, OOM),
// so a File lease never expires. Its holder writes its identity into the
// file once it holds the lock.
type File struct {
	Path string
	// Now is the clock of the holder's since and of waiting (time.Now).
	Now func() time.Time
	// Poll is how often a waiting contender tries again (DefaultPoll).
	Poll   time.Duration
	Logger *slog.Logger
}

var _ Locker = (*File)(nil)

// Acquire takes the lock (see Locker).
func (f *File) Acquire(ctx context.Context, wait time.Duration) (Lease, error) {
	now := f.Now
	if now == nil {
		now = time.Now
	}
	poll := f.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	// Durably: the lease is taken before the sink makes the dataset root.
	if err := storage.MkdirAll(filepath.Dir(f.Path)); err != nil {
		return nil, fmt.Errorf("creating the directory of %s: %w", f.Path, err)
	}
	return retry(ctx, wait, poll, now, orDiscard(f.Logger), func(context.Context) (Lease, error) { return f.try(now()) })
}

// try takes the lock once, without blocking.
func (f *File) try(now time.Time) (Lease, error) {
	fd, err := os.OpenFile(f.Path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file %s: %w", f.Path, err)
	}
	held, err := lockFile(fd)
	if err != nil {
		fd.Close()
		return nil, fmt.Errorf("locking %s: %w", f.Path, err)
	}
	if held {
		raw := make([]byte, 4096)
		n, _ := fd.ReadAt(raw, 0)
		fd.Close()
		return nil, &HeldError{Name: f.Path, Holder: parseHolder(raw[:n])}
	}
	raw, _ := json.Marshal(Self(now))
	if err := writeAt0(fd, append(raw, '\n')); err != nil {
		unlockFile(fd)
		fd.Close()
		return nil, fmt.Errorf("writing the holder into %s: %w", f.Path, err)
	}
	return &fileLease{fd: fd}, nil
}

// writeAt0 replaces the file's content with raw, durably.
func writeAt0(fd *os.File, raw []byte) error {
	if err := fd.Truncate(0); err != nil {
		return err
	}
	if _, err := fd.WriteAt(raw, 0); err != nil {
		return err
	}
	return fd.Sync()
}

type fileLease struct{ fd *os.File }

// Release empties the lock file (no holder any more) and unlocks it.
func (l *fileLease) Release(context.Context) error {
	if l.fd == nil {
		return nil
	}
	fd := l.fd
	l.fd = nil
	terr := fd.Truncate(0)
	uerr := unlockFile(fd)
	cerr := fd.Close()
	for _, err := range []error{terr, uerr, cerr} {
		if err != nil {
			return fmt.Errorf("releasing lock file %s: %w", fd.Name(), err)
		}
	}
	return nil
}
