package lease

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
)

// openLeaseBucket starts an S3-compatible server and opens its bucket's
// prefix data/ as the lease's objects.
func openLeaseBucket(t *testing.T) (*testkit.S3, *storage.BlobStorage) {
	t.Helper()
	srv := testkit.StartS3(t, "leases")
	srv.SetEnv(t)
	bs, err := storage.OpenBlobStorage(context.Background(), "s3://leases/data", storage.BlobOptions{S3Endpoint: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	return srv, bs
}

func readRecord(t *testing.T, bs *storage.BlobStorage) (Record, bool) {
	t.Helper()
	raw, err := bs.ReadAll(context.Background(), "_lease.json")
	if errors.Is(err, os.ErrNotExist) {
		return Record{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r, true
}

// The lease object on a real server: one holder at a time, renewed with
// the holder's clock, taken over once expired (by the contender's
// clock: no waiting), released only by its holder.
func TestBlobLeaseOnS3(t *testing.T) {
	ctx := context.Background()
	_, bs := openLeaseBucket(t)
	clock := t0
	logs := newSignalLog()
	a := &Blob{Objects: bs, Name: "_lease.json", Now: func() time.Time { return clock }, Logger: slog.New(logs)}
	la, err := a.Acquire(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	rec, ok := readRecord(t, bs)
	if !ok || rec.PID != os.Getpid() || !rec.Since.Equal(t0) || !rec.Expires.Equal(t0.Add(DefaultTTL)) || rec.Token == "" {
		t.Fatalf("lease object %+v (found %v), want this process since %s until %s", rec, ok, t0, t0.Add(DefaultTTL))
	}
	// Held: a second run stands aside, told who holds it.
	_, err = (&Blob{Objects: bs, Name: "_lease.json", Now: func() time.Time { return t0.Add(time.Minute) }}).Acquire(ctx, 0)
	var held *HeldError
	if !errors.As(err, &held) || held.Holder.PID != os.Getpid() || !strings.Contains(err.Error(), "s3://leases/data/_lease.json") {
		t.Fatalf("second acquire: %v, want held by pid %d", err, os.Getpid())
	}
	// Renewed: the expiry moves with the holder's clock.
	clock = t0.Add(time.Minute)
	if err := la.(*blobLease).renew(ctx); err != nil {
		t.Fatal(err)
	}
	if rec, _ := readRecord(t, bs); !rec.Expires.Equal(clock.Add(DefaultTTL)) || !rec.Since.Equal(t0) {
		t.Errorf("renewed lease %+v, want expiry %s", rec, clock.Add(DefaultTTL))
	}
	// Expired (the holder stopped renewing): a contender takes it over.
	late := clock.Add(DefaultTTL)
	clogs := newSignalLog()
	c := &Blob{Objects: bs, Name: "_lease.json", Now: func() time.Time { return late }, Logger: slog.New(clogs)}
	lc, err := c.Acquire(ctx, 0)
	if err != nil {
		t.Fatalf("acquire of an expired lease: %v", err)
	}
	if !strings.Contains(clogs.text(), "taking over an expired lease") {
		t.Errorf("takeover not logged: %s", clogs.text())
	}
	// The first holder finds it lost: it logs an error, and its release
	// leaves the new holder's lease alone.
	if err := la.(*blobLease).renew(ctx); !errors.Is(err, ErrLost) || !strings.Contains(logs.text(), "ERROR lease lost") {
		t.Errorf("renewal of a lost lease: %v; log:\n%s", err, logs.text())
	}
	if err := la.Release(ctx); !errors.Is(err, ErrLost) {
		t.Errorf("release of a lost lease: %v", err)
	}
	if rec, ok := readRecord(t, bs); !ok || !rec.Expires.Equal(late.Add(DefaultTTL)) {
		t.Fatalf("the new holder's lease %+v (found %v) was touched", rec, ok)
	}
	if err := lc.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := readRecord(t, bs); ok {
		t.Error("released lease object still there")
	}
}

// A lease left by a killed run on another host, expired by the
// contender's clock, is taken over; one not expired is not.
func TestBlobLeaseLeftByAnotherHost(t *testing.T) {
	ctx := context.Background()
	srv, bs := openLeaseBucket(t)
	other := Record{Holder: Holder{Host: "pod-b", PID: 4242, Since: t0}, Expires: t0.Add(DefaultTTL), Token: "theirs"}
	raw, _ := json.Marshal(other)
	srv.Put(t, "data/_lease.json", raw)
	b := &Blob{Objects: bs, Name: "_lease.json", Now: func() time.Time { return t0.Add(DefaultTTL - time.Second) }}
	_, err := b.Acquire(ctx, 0)
	var held *HeldError
	if !errors.As(err, &held) || held.Holder != other.Holder || !strings.Contains(err.Error(), "pid 4242 on pod-b") {
		t.Fatalf("acquire of a live lease: %v", err)
	}
	b.Now = func() time.Time { return t0.Add(DefaultTTL) }
	l, err := b.Acquire(ctx, 0)
	if err != nil {
		t.Fatalf("acquire of an expired lease: %v", err)
	}
	if rec, _ := readRecord(t, bs); rec.PID != os.Getpid() {
		t.Errorf("lease after takeover: %+v", rec)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// A server that ignores If-None-Match would let every run "create" the
// lease: it is refused, and leaves no lease behind.
func TestBlobLeaseRefusesStoreIgnoringConditions(t *testing.T) {
	ctx := context.Background()
	srv, bs := openLeaseBucket(t)
	srv.IgnoreConditionalWrites()
	_, err := (&Blob{Objects: bs, Name: "_lease.json"}).Acquire(ctx, 0)
	if !errors.Is(err, ErrNoConditionalWrite) {
		t.Fatalf("acquire on a store ignoring conditions: %v", err)
	}
	if _, ok := readRecord(t, bs); ok {
		t.Error("refused lease left behind")
	}
}
