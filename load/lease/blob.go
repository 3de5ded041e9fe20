package lease

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"
)

// DefaultTTL is how long a Blob lease outlives its last renewal: a killed
// run's lease lapses this long after it died, at most.
const DefaultTTL = 2 * time.Minute

// Objects are the object store a Blob lease lives in (storage.BlobStorage).
type Objects interface {
	// ReadAll returns the object; a missing one wraps fs.ErrNotExist.
	ReadAll(ctx context.Context, name string) ([]byte, error)
	// CreateIfAbsent writes the object only when none is there, in one
	// conditional request; one there wraps fs.ErrExist.
	CreateIfAbsent(ctx context.Context, name string, data []byte) error
	// WriteAll replaces the object whole.
	WriteAll(ctx context.Context, name string, data []byte) error
	// Remove deletes the object; a missing one is not an error.
	Remove(ctx context.Context, name string) error
	// Location renders the name for people.
	Location(name string) string
}

// Record is the content of a lease object.
type Record struct {
	Holder
	// Expires is when the lease lapses unless its holder renews it.
	Expires time.Time `json:"expires"`
	// Token tells this holder's lease from a later one of the same
	// process (a run started again) or of another.
	Token string `json:"token"`
}

// Expired reports whether the lease has lapsed at now: a contender may
// then remove it and take the output.
func (r Record) Expired(now time.Time) bool { return !now.Before(r.Expires) }

// Blob is the lease of a Parquet dataset in object storage: the object
// Name (such as _lease.json) in Objects, created only when absent (S3's
// If-None-Match: *), holding its Record. The holder rewrites it every
// TTL/3 with a new expiry; a contender that finds it expired removes it
// and tries again, so a killed run's lease lapses after TTL. A store that
// ignores the condition is refused with ErrNoConditionalWrite rather than
// trusted.
type Blob struct {
	Objects Objects
	Name    string
	// TTL is the lease's life past each renewal (DefaultTTL).
	TTL time.Duration
	// Now is the clock of expiries and of waiting (time.Now).
	Now func() time.Time
	// Poll is how often a waiting contender tries again (DefaultPoll).
	Poll   time.Duration
	Logger *slog.Logger
}

var _ Locker = (*Blob)(nil)

func (b *Blob) now() time.Time {
	if b.Now == nil {
		return time.Now()
	}
	return b.Now()
}

func (b *Blob) ttl() time.Duration {
	if b.TTL <= 0 {
		return DefaultTTL
	}
	return b.TTL
}

// Acquire creates the lease object (see Locker). The lease taken is
// renewed in the background, every TTL/3, until Release.
func (b *Blob) Acquire(ctx context.Context, wait time.Duration) (Lease, error) {
	poll := b.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	log := orDiscard(b.Logger)
	l, err := retry(ctx, wait, poll, b.now, log, b.try)
	if err != nil {
		return nil, err
	}
	bl := l.(*blobLease)
	bl.stop, bl.done = make(chan struct{}), make(chan struct{})
	// Renewals outlive ctx, which bounds only the acquisition; Release
	// stops them.
	go bl.renewEvery(context.WithoutCancel(ctx), b.ttl()/3)
	return bl, nil
}

// try creates the lease once; an expired lease found is removed and the
// create tried again.
func (b *Blob) try(ctx context.Context) (Lease, error) {
	where := b.Objects.Location(b.Name)
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	rec := Record{Holder: Self(b.now()), Token: hex.EncodeToString(tok[:])}
	for range 3 {
		rec.Expires = b.now().Add(b.ttl())
		raw, _ := json.Marshal(rec)
		err := b.Objects.CreateIfAbsent(ctx, b.Name, raw)
		if err == nil {
			// Our lease is there: a second create of it must be refused,
			// or the store ignores the condition and any run could
			// overwrite it.
			perr := b.Objects.CreateIfAbsent(ctx, b.Name, raw)
			if errors.Is(perr, fs.ErrExist) {
				return &blobLease{b: b, token: rec.Token}, nil
			}
			_ = b.Objects.Remove(ctx, b.Name)
			if perr == nil {
				return nil, fmt.Errorf("creating lease %s: %w: use a store that supports them (S3, MinIO, GCS, Azure)", where, ErrNoConditionalWrite)
			}
			return nil, fmt.Errorf("creating lease %s: %w", where, perr)
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("creating lease %s: %w", where, err)
		}
		cur, found, err := b.read(ctx)
		if err != nil {
			return nil, err
		}
		if !found {
			continue // released between the create and the read
		}
		if !cur.Expired(b.now()) {
			return nil, &HeldError{Name: where, Holder: cur.Holder}
		}
		if err := b.removeExpired(ctx, cur); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("creating lease %s: %w: it kept changing hands", where, ErrHeld)
}

// removeExpired removes the lease cur, expired, unless it changed since
// it was read (its holder renewed it, or another contender took it over).
func (b *Blob) removeExpired(ctx context.Context, cur Record) error {
	again, found, err := b.read(ctx)
	if err != nil || !found {
		return err
	}
	if again.Token != cur.Token || !again.Expires.Equal(cur.Expires) {
		return nil // the next create finds who holds it now
	}
	orDiscard(b.Logger).Warn("taking over an expired lease", append([]any{"lease", b.Objects.Location(b.Name),
		"expired", cur.Expires.UTC().Format(time.RFC3339)}, cur.Holder.LogAttrs()...)...)
	return b.Objects.Remove(ctx, b.Name)
}

// read returns the lease there; found is false when there is none. A
// lease that cannot be read as a Record is an error naming it: removing
// it by hand frees the output.
func (b *Blob) read(ctx context.Context) (rec Record, found bool, err error) {
	raw, err := b.Objects.ReadAll(ctx, b.Name)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("reading lease %s: %w", b.Objects.Location(b.Name), err)
	}
	if err := json.Unmarshal(raw, &rec); err != nil || rec.Token == "" {
		return Record{}, false, fmt.Errorf("reading lease %s: not a lease (remove it if no run is going): %q", b.Objects.Location(b.Name), bytes.TrimSpace(raw))
	}
	return rec, true, nil
}

type blobLease struct {
	b     *Blob
	token string
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

// renewEvery renews the lease every interval until Release, or until it
// finds the lease is no longer its own.
func (l *blobLease) renewEvery(ctx context.Context, every time.Duration) {
	defer close(l.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, every)
		err := l.renew(rctx)
		cancel()
		if errors.Is(err, ErrLost) {
			return
		}
	}
}

// renew rewrites the lease with a new expiry, when it is still this
// run's. A lease lost is logged as an error; a failed write as a warning
// (the next renewal tries again, within the TTL).
func (l *blobLease) renew(ctx context.Context) error {
	log := orDiscard(l.b.Logger)
	where := l.b.Objects.Location(l.b.Name)
	cur, found, err := l.b.read(ctx)
	if err == nil && (!found || cur.Token != l.token) {
		err = fmt.Errorf("renewing lease %s: %w", where, ErrLost)
		attrs := []any{"lease", where, "error", err}
		if found {
			attrs = append(attrs, cur.Holder.LogAttrs()...)
		}
		log.Error("lease lost: another run may be writing this output", attrs...)
		return err
	}
	if err != nil {
		log.Warn("renewing lease", "lease", where, "error", err)
		return err
	}
	cur.Expires = l.b.now().Add(l.b.ttl())
	raw, _ := json.Marshal(cur)
	if err := l.b.Objects.WriteAll(ctx, l.b.Name, raw); err != nil {
		log.Warn("renewing lease", "lease", where, "error", err)
		return fmt.Errorf("renewing lease %s: %w", where, err)
	}
	return nil
}

// Release stops the renewals and removes the lease, when it is still this
// run's (ErrLost when it is not).
func (l *blobLease) Release(ctx context.Context) error {
	var err error
	l.once.Do(func() {
		if l.stop != nil {
			close(l.stop)
			<-l.done
		}
		where := l.b.Objects.Location(l.b.Name)
		cur, found, rerr := l.b.read(ctx)
		switch {
		case rerr != nil:
			err = fmt.Errorf("releasing lease: %w", rerr)
		case !found || cur.Token != l.token:
			err = fmt.Errorf("releasing lease %s: %w", where, ErrLost)
		default:
			if rmErr := l.b.Objects.Remove(ctx, l.b.Name); rmErr != nil {
				err = fmt.Errorf("releasing lease %s: %w", where, rmErr)
			}
		}
	})
	return err
}
