package lease

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 9, 3, 30, 0, 0, time.UTC)

func TestRecordExpired(t *testing.T) {
	for _, c := range []struct {
		expires time.Time
		want    bool
	}{
		{t0.Add(time.Second), false},
		{t0.Add(DefaultTTL), false},
		{t0, true},
		{t0.Add(-time.Second), true},
		{time.Time{}, true},
	} {
		if got := (Record{Expires: c.expires}).Expired(t0); got != c.want {
			t.Errorf("expires %s at %s: expired %v, want %v", c.expires, t0, got, c.want)
		}
	}
}

func TestHolderString(t *testing.T) {
	for _, c := range []struct {
		h    Holder
		want string
	}{
		{Holder{Host: "pod-a", PID: 42, Since: t0}, "pid 42 on pod-a since 2026-03-09T03:30:00Z"},
		{Holder{Host: "pod-a", PID: 42, Since: t0.In(time.FixedZone("x", 3600))}, "pid 42 on pod-a since 2026-03-09T03:30:00Z"},
		{Holder{}, "a run that has not written its identity yet"},
	} {
		if got := c.h.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.h, got, c.want)
		}
	}
	err := error(&HeldError{Name: "out/_lock", Holder: Holder{Host: "pod-a", PID: 42, Since: t0}})
	if !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "out/_lock is held by pid 42 on pod-a") {
		t.Errorf("HeldError: %v", err)
	}
}

func TestNameFor(t *testing.T) {
	for _, c := range []struct {
		base  string
		shard int
		want  string
	}{
		{"_lock", -1, "_lock"},
		{"_lock", 2, "_lock.shard-2"},
		{"_lease.json", -1, "_lease.json"},
		{"_lease.json", 0, "_lease.shard-0.json"},
	} {
		if got := NameFor(c.base, c.shard); got != c.want {
			t.Errorf("NameFor(%q, %d) = %q, want %q", c.base, c.shard, got, c.want)
		}
	}
}

func TestFileLeaseExclusive(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "out", "_lock")
	a := &File{Path: path, Now: func() time.Time { return t0 }}
	la, err := a.Acquire(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&File{Path: path}).Acquire(ctx, 0)
	var held *HeldError
	if !errors.As(err, &held) || held.Holder.PID != os.Getpid() || !held.Holder.Since.Equal(t0) || held.Holder.Host == "" {
		t.Fatalf("second acquire: %v (%+v), want held by this process since %s", err, held, t0)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(path); len(raw) != 0 {
		t.Errorf("released lock file still names a holder: %q", raw)
	}
	lb, err := (&File{Path: path}).Acquire(ctx, 0)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	lb.Release(ctx)
}

// A holder that dies without releasing: the system drops its lock with
// its files (closing the file stands for the process's death).
func TestFileLeaseFreedWhenHolderDies(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "_lock")
	la, err := (&File{Path: path}).Acquire(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	la.(*fileLease).fd.Close()
	lb, err := (&File{Path: path}).Acquire(ctx, 0)
	if err != nil {
		t.Fatalf("acquire after the holder died: %v", err)
	}
	lb.Release(ctx)
}

// signalLog is a log handler that signals each message on a channel.
type signalLog struct {
	mu   sync.Mutex
	msgs chan string
	recs []slog.Record
}

func newSignalLog() *signalLog { return &signalLog{msgs: make(chan string, 16)} }

func (s *signalLog) Enabled(context.Context, slog.Level) bool { return true }
func (s *signalLog) Handle(_ context.Context, r slog.Record) error {
	s.mu.Lock()
	s.recs = append(s.recs, r)
	s.mu.Unlock()
	select {
	case s.msgs <- r.Message:
	default:
	}
	return nil
}
func (s *signalLog) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s *signalLog) WithGroup(string) slog.Handler      { return s }

// text is every record logged, with its attributes.
func (s *signalLog) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, r := range s.recs {
		b.WriteString(r.Level.String() + " " + r.Message)
		r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
		b.WriteString("\n")
	}
	return b.String()
}

// A contender given time waits for the holder's release, then holds.
func TestFileLeaseWaits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "_lock")
	la, err := (&File{Path: path}).Acquire(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	logs := newSignalLog()
	got := make(chan error, 1)
	go func() {
		lb, err := (&File{Path: path, Poll: time.Millisecond, Logger: slog.New(logs)}).Acquire(ctx, time.Hour)
		if err == nil {
			err = lb.Release(ctx)
		}
		got <- err
	}()
	select {
	case msg := <-logs.msgs:
		if msg != "waiting for the lease" {
			t.Fatalf("logged %q, want the wait", msg)
		}
	case err := <-got:
		t.Fatalf("the contender did not wait for the holder: %v", err)
	}
	if !strings.Contains(logs.text(), "holder_pid="+strconv.Itoa(os.Getpid())) {
		t.Errorf("the wait does not name the holder: %s", logs.text())
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiting contender: %v", err)
	}
}

// Cancelling the context stops a wait.
func TestFileLeaseWaitCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "_lock")
	la, err := (&File{Path: path}).Acquire(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer la.Release(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	logs := newSignalLog()
	got := make(chan error, 1)
	go func() {
		_, err := (&File{Path: path, Poll: time.Hour, Logger: slog.New(logs)}).Acquire(ctx, 10*time.Hour)
		got <- err
	}()
	select {
	case <-logs.msgs:
	case err := <-got:
		t.Fatalf("the contender did not wait for the holder: %v", err)
	}
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}
