package cli

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
)

// TestParquetOnObjectStorage runs the CLI with SALESNAV_PARQUET_DIR=s3://…
// against a real S3-compatible server (MinIO when installed, else s3rver)
// and the same runs into a local directory: the bucket holds the same
// layout (the same object names, only *.parquet and the state object) and
// the same rows, after a first run and after a later one whose lookback
// replaces partitions; the cursor lives in the bucket; state show reads
// it; config check --connect writes and deletes a probe object; wrong
// credentials fail with a clear error and write nothing.
func TestParquetOnObjectStorage(t *testing.T) {
	srv := testkit.StartS3(t, "lake")
	srv.SetEnv(t) // the AWS SDK reads its chain from the process
	// Files are staged here before upload: none may be left behind.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	defer func() {
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("staged files left in TMPDIR: %v", left)
		}
	}()
	local := filepath.Join(t.TempDir(), "out")
	// profile_associations reads the loaded CRM records back (through
	// ranged reads of the bucket's Parquet) and merges its own file.
	base := map[string]string{"SALESNAV_START": "2026-02-01", "SALESNAV_POLL_INTERVAL": "5ms", "SALESNAV_STREAMS": "contracts,seat,activity,activity_outcome,crm_validation,profile_associations"}
	envFor := func(dir, end string) map[string]string {
		env := map[string]string{"SALESNAV_PARQUET_DIR": dir, "SALESNAV_END": end}
		for k, v := range base {
			env[k] = v
		}
		if storage.IsURL(dir) {
			env["SALESNAV_S3_ENDPOINT"] = srv.Endpoint
		}
		return env
	}
	streams := []string{"contracts", "seat", "activity", "activity_outcome", "crm_validation", "profile_associations"}
	// One fixed clock for the fake API and every run: the CRM exports end
	// at the fake's current minute, which must not move between runs.
	const fakeNow = "2026-02-11T12:00:00Z"
	for _, end := range []string{"2026-02-08", "2026-02-11"} {
		for _, dir := range []string{local, "s3://lake/salesnav"} {
			code, stdout, stderr := runCLI(t, envFor(dir, end), "run", "--fake-api", "--fake-now", fakeNow)
			if code != ExitOK {
				t.Fatalf("run into %s to %s: exit %d\n%s\n%s", dir, end, code, stdout, stderr)
			}
			if storage.IsURL(dir) && !strings.Contains(stdout, "read_parquet('s3://lake/salesnav/activity/**/*.parquet'") {
				t.Errorf("the read hints do not name the bucket:\n%s", stdout)
			}
		}
		mirror := srv.Mirror(t, "salesnav")
		for _, st := range streams {
			want, got := testkit.ParquetRows(t, local, st), testkit.ParquetRows(t, mirror, st)
			if len(want) == 0 || !slices.Equal(testkit.Stripped(want), testkit.Stripped(got)) {
				t.Errorf("to %s, %s: %d rows in the bucket, %d on disk, or they differ", end, st, len(got), len(want))
			}
		}
		if lf, bf := files(t, local), files(t, mirror); !slices.Equal(lf, bf) {
			t.Errorf("to %s: the bucket's objects differ from the directory's files:\n%v\n%v", end, bf, lf)
		}
		for _, k := range srv.Keys(t) {
			if !strings.HasSuffix(k, ".parquet") && k != "salesnav/_state.json" {
				t.Errorf("unexpected object %s", k)
			}
		}
	}
	// A third run has nothing to do: its cursors come from the bucket. It
	// rewrites only the contracts dimension, the merged associations and
	// the state object.
	before := srv.Keys(t)
	calls := len(srv.Calls())
	writes := len(srv.Writes())
	code, stdout, stderr := runCLI(t, envFor("s3://lake/salesnav", "2026-02-11"), "run", "--fake-api", "--fake-now", fakeNow)
	if code != ExitOK || !strings.Contains(stdout, "activity        0") {
		t.Errorf("re-run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if after := srv.Keys(t); !slices.Equal(before, after) {
		t.Errorf("a run with nothing to do changed the objects: %v → %v", before, after)
	}
	// Besides its lease, taken and given back (the objects are as before).
	for _, w := range srv.Writes()[writes:] {
		if key := strings.SplitN(w, " ", 2)[1]; key != "salesnav/_state.json" && key != "salesnav/contracts/data.parquet" && key != "salesnav/profile_associations/data.parquet" && key != "salesnav/_lease.json" {
			t.Errorf("a run with nothing to do wrote %s", w)
		}
	}
	env := envFor("s3://lake/salesnav", "2026-02-11")
	delete(env, "SALESNAV_STREAMS") // crm_validation needs instances, given by --fake-api
	env["SALESNAV_ACCESS_TOKEN"] = "x"
	env["SALESNAV_API_URL"] = "http://127.0.0.1:1/v2" // refused at once: only the sink matters here
	code, stdout, _ = runCLI(t, env, "state", "show")
	if code != ExitOK || !strings.Contains(stdout, "activity") || !strings.Contains(stdout, "2026-02-11") {
		t.Errorf("state show from the bucket: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr = runCLI(t, env, "config", "check", "--connect")
	if !strings.Contains(stdout, "sink: ok (Parquet s3://lake/salesnav)") {
		t.Errorf("config check --connect does not pass the bucket: %d\n%s\n%s", code, stdout, stderr)
	}
	if after := srv.Keys(t); !slices.Equal(before, after) {
		t.Errorf("config check left an object: %v", after)
	}
	if len(srv.Calls()) == calls {
		t.Error("the runs made no request to the server")
	}

	// Wrong credentials: exit 1, an error naming the bucket and what to
	// check, no secret in the output, nothing written.
	const sentinel = "Sentinel-Secret-5f3c9a"
	t.Setenv("AWS_ACCESS_KEY_ID", "WRONGKEYID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", sentinel)
	code, stdout, stderr = runCLI(t, envFor("s3://lake/fresh", "2026-02-08"), "run", "--fake-api")
	if code != ExitFailure || !strings.Contains(stderr, "s3://lake/fresh") || !strings.Contains(stderr, "access denied") {
		t.Errorf("wrong credentials: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, sentinel) {
		t.Error("the secret appears in the output")
	}
	if after := srv.Keys(t); !slices.Equal(before, after) {
		t.Errorf("a run with wrong credentials wrote: %v", after)
	}
	code, _, stderr = runCLI(t, env, "config", "check", "--connect")
	if code != ExitFailure || !strings.Contains(stderr, "parquet storage") || !strings.Contains(stderr, "access denied") || strings.Contains(stderr, sentinel) {
		t.Errorf("config check with wrong credentials: exit %d\n%s", code, stderr)
	}
}

// files lists the *.parquet and state files below dir, relative, sorted.
func files(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".parquet") || filepath.Base(p) == "_state.json") {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// TestScaleOutConfigErrors: bad object-storage and cluster values exit 2,
// each naming its variable, all at once.
func TestScaleOutConfigErrors(t *testing.T) {
	env := map[string]string{"SALESNAV_ACCESS_TOKEN": "x", "SALESNAV_PARQUET_DIR": "ftp://bucket/x", "SALESNAV_S3_ENDPOINT": "minio:9000",
		"SALESNAV_SINK": "clickhouse", "SALESNAV_CLICKHOUSE_DSN": "clickhouse://u:p@127.0.0.1:1/db",
		"SALESNAV_CLICKHOUSE_CLUSTER": "c", "SALESNAV_CLICKHOUSE_ZK_PATH": "/ch/{shard}", "SALESNAV_CLICKHOUSE_REPLICA": "it's"}
	code, _, stderr := runCLI(t, env, "config", "check")
	for _, v := range []string{"SALESNAV_PARQUET_DIR", "SALESNAV_S3_ENDPOINT", "SALESNAV_CLICKHOUSE_ZK_PATH", "SALESNAV_CLICKHOUSE_REPLICA"} {
		if code != ExitConfig || !strings.Contains(stderr, v) {
			t.Errorf("exit %d, stderr does not name %s:\n%s", code, v, stderr)
		}
	}
	if strings.Contains(stderr, "SALESNAV_CLICKHOUSE_CLUSTER:") {
		t.Errorf("a good cluster name was blamed:\n%s", stderr)
	}
	code, stdout, stderr := runCLI(t, map[string]string{"SALESNAV_CLICKHOUSE_CLUSTER": "analytics"}, "schema")
	if code != ExitOK || !strings.Contains(stdout, "ON CLUSTER `analytics`") || !strings.Contains(stdout, "ENGINE = Distributed('analytics', 'salesnav', 'activity', cityHash64(`_contract`, `activityId`))") {
		t.Errorf("schema with a cluster: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
