package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/lease"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// leaseRunEnv is a short run of the embedded fake API into dir.
func leaseRunEnv(dir string) map[string]string {
	return map[string]string{"SALESNAV_PARQUET_DIR": dir, "SALESNAV_STREAMS": "activity", "SALESNAV_START": "2026-02-05",
		"SALESNAV_END": "2026-02-08", "SALESNAV_POLL_INTERVAL": "5ms"}
}

const leaseFakeNow = "2026-02-11T12:00:00Z"

// holdLock holds the lock file name in dir as another run would.
func holdLock(t *testing.T, dir, name string) lease.Lease {
	t.Helper()
	l, err := (&lease.File{Path: filepath.Join(dir, name)}).Acquire(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Release(context.Background()) })
	return l
}

// While a run holds the output, state reset and associations --load stand
// aside with exit 75, naming it, and state show still reads; a shard's
// lease holds off a reset of the whole family, whose files reset rewrites.
func TestStateCommandsTakeTheLease(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	env := leaseRunEnv(dir)
	if code, out, errOut := runCLI(t, env, "run", "--fake-api", "--fake-now", leaseFakeNow); code != ExitOK {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}
	keys := filepath.Join(t.TempDir(), "keys.csv")
	if err := os.WriteFile(keys, []byte("instanceId,partner,recordId\n00D1,SFDC,0031\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	self := "pid " + strconv.Itoa(os.Getpid()) + " on "
	held := holdLock(t, dir, "_lock")
	for _, args := range [][]string{
		{"run", "--fake-api", "--fake-now", leaseFakeNow},
		{"state", "reset", "--stream", "activity"},
		{"associations", "--fake-api", "--load", "--input", keys},
	} {
		code, _, stderr := runCLI(t, env, args...)
		if code != ExitTemporary || !strings.Contains(stderr, self) || !strings.Contains(stderr, "standing aside") {
			t.Errorf("%v while the output is held: exit %d, want 75 naming %q:\n%s", args, code, self, stderr)
		}
	}
	if code, stdout, stderr := runCLI(t, env, "state", "show"); code != ExitOK || !strings.Contains(stdout, "urn:li:salesContract:1001") {
		t.Errorf("state show while the output is held: exit %d\n%s\n%s", code, stdout, stderr)
	}
	held.Release(context.Background())
	if code, stdout, stderr := runCLI(t, env, "associations", "--fake-api", "--load", "--input", keys); code != ExitOK {
		t.Errorf("associations --load after the release: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A shard's file joins the family: resetting it is shard 1's business too.
	shardEnv := leaseRunEnv(dir)
	shardEnv["SALESNAV_SHARD"], shardEnv["SALESNAV_END"] = "1/2", "2026-02-09" // a new day: it writes its own file
	if code, _, stderr := runCLI(t, shardEnv, "run", "--fake-api", "--fake-now", leaseFakeNow); code != ExitOK {
		t.Fatalf("shard run: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "_state.shard-1.json")); err != nil {
		t.Fatal(err)
	}
	holdLock(t, dir, "_lock.shard-1")
	if code, stdout, stderr := runCLI(t, env, "state", "reset", "--stream", "activity"); code != ExitTemporary || !strings.Contains(stderr, "_lock.shard-1") {
		t.Errorf("reset of the family while shard 1 runs: exit %d, want 75 naming its lock:\n%s\n%s", code, stdout, stderr)
	}
}

// Two shards of one family hold distinct leases: shard 0 runs while
// shard 1 holds its own, and leaves shard 1's staging files (files being
// written, for all it knows) alone while it cleans its own stale ones.
func TestShardLeasesAndStagingApart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	env := leaseRunEnv(dir)
	env["SALESNAV_SHARD"] = "0/2"
	own, other := "urn:li:salesContract:1002", "urn:li:salesContract:1001"
	if pipeline.ShardOf(own, 2) != 0 || pipeline.ShardOf(other, 2) != 1 {
		t.Fatal("the fake's contracts moved shards: pick others")
	}
	stage := func(urn, day string) string {
		return filepath.Join(dir, "activity", "contract="+load.PartitionID(urn), "date="+day, ".staging-data.parquet-12345.tmp")
	}
	days := []string{"2026-02-05", "2026-02-06", "2026-02-07"}
	for _, urn := range []string{own, other} {
		for _, d := range days {
			p := stage(urn, d)
			if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("half a file"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	holdLock(t, dir, lease.NameFor(lockFileName, 1)) // as shard 1's run does
	if code, _, stderr := runCLI(t, env, "run", "--fake-api", "--fake-now", leaseFakeNow); code != ExitOK {
		t.Fatalf("shard 0 while shard 1 runs: exit %d\n%s", code, stderr)
	}
	for _, d := range days {
		if _, err := os.Stat(stage(other, d)); err != nil {
			t.Errorf("shard 0 removed shard 1's staging file of %s: %v", d, err)
		}
		if _, err := os.Stat(stage(own, d)); !os.IsNotExist(err) {
			t.Errorf("shard 0 left its own stale staging file of %s: %v", d, err)
		}
	}
}

// On object storage: a live lease object makes a run stand aside with
// exit 75 naming its holder, whatever the clock says; an expired one
// (a killed run's) is taken over and the run completes; the run's own
// lease is gone once it ends; a store that ignores conditional writes is
// refused, not trusted.
func TestLeaseOnObjectStorage(t *testing.T) {
	srv := testkit.StartS3(t, "lake")
	srv.SetEnv(t)
	env := leaseRunEnv("s3://lake/salesnav")
	env["SALESNAV_S3_ENDPOINT"] = srv.Endpoint
	plant := func(expires time.Time) {
		raw, _ := json.Marshal(lease.Record{Holder: lease.Holder{Host: "pod-b", PID: 4242, Since: time.Date(2026, 2, 11, 3, 30, 0, 0, time.UTC)},
			Expires: expires, Token: "pod-b's"})
		srv.Put(t, "salesnav/_lease.json", raw)
	}
	plant(time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, args := range [][]string{{"run", "--fake-api", "--fake-now", leaseFakeNow}, {"state", "reset", "--stream", "activity"}} {
		code, _, stderr := runCLI(t, env, args...)
		if code != ExitTemporary || !strings.Contains(stderr, "pid 4242 on pod-b since 2026-02-11T03:30:00Z") {
			t.Errorf("%v under a live lease: exit %d, want 75 naming pod-b:\n%s", args, code, stderr)
		}
	}
	if keys := srv.Keys(t); !slices.Equal(keys, []string{"salesnav/_lease.json"}) {
		t.Errorf("runs that stood aside wrote %v", keys)
	}
	plant(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
	writes := len(srv.Writes())
	code, _, stderr := runCLI(t, env, "run", "--fake-api", "--fake-now", leaseFakeNow)
	if code != ExitOK || !strings.Contains(stderr, "taking over an expired lease") {
		t.Fatalf("run over an expired lease: exit %d\n%s", code, stderr)
	}
	var leaseWrites []string
	for _, w := range srv.Writes()[writes:] {
		if strings.HasSuffix(w, "/_lease.json") {
			leaseWrites = append(leaseWrites, w)
		}
	}
	// Refused (there), removed (expired), created, refused (the probe that
	// the store honours the condition), removed at the end.
	if want := []string{"PUT salesnav/_lease.json", "DELETE salesnav/_lease.json", "PUT salesnav/_lease.json", "PUT salesnav/_lease.json", "DELETE salesnav/_lease.json"}; !slices.Equal(leaseWrites, want) {
		t.Errorf("lease writes %v, want %v", leaseWrites, want)
	}
	if keys := srv.Keys(t); slices.Contains(keys, "salesnav/_lease.json") {
		t.Error("the run's lease is still there after it ended")
	}
	srv.IgnoreConditionalWrites()
	code, _, stderr = runCLI(t, env, "run", "--fake-api", "--fake-now", leaseFakeNow)
	if code != ExitFailure || !strings.Contains(stderr, "conditional writes") {
		t.Errorf("run on a store ignoring conditional writes: exit %d, want 1 saying why:\n%s", code, stderr)
	}
	if keys := srv.Keys(t); slices.Contains(keys, "salesnav/_lease.json") {
		t.Error("a refused lease was left behind")
	}
}
