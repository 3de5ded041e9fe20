package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
)

func TestLocations(t *testing.T) {
	for _, c := range []struct{ loc, join, dir, name string }{
		{"out", "out/_state.json", "out", "_state.json"},
		{"/var/lib/x/", "/var/lib/x/_state.json", "/var/lib/x", "_state.json"},
		{"s3://b/p", "s3://b/p/_state.json", "s3://b/p", "_state.json"},
		{"s3://b/p/", "s3://b/p/_state.json", "s3://b/p", "_state.json"},
		{"s3://b?region=eu-west-1", "s3://b/_state.json?region=eu-west-1", "s3://b?region=eu-west-1", "_state.json"},
		{"s3://b/p?profile=prod.etl", "s3://b/p/_state.json?profile=prod.etl", "s3://b/p?profile=prod.etl", "_state.json"},
	} {
		if got := storage.JoinLocation(c.loc, "_state.json"); got != c.join {
			t.Errorf("JoinLocation(%q) = %q, want %q", c.loc, got, c.join)
		}
		if d, n := storage.SplitLocation(c.join); d != c.dir || n != c.name {
			t.Errorf("SplitLocation(%q) = %q, %q; want %q, %q", c.join, d, n, c.dir, c.name)
		}
	}
	for base, want := range map[string]string{
		"out/_state.json":                          "out/_state.shard-2.json",
		"s3://b/p/_state.json?profile=prod.etl":    "s3://b/p/_state.shard-2.json?profile=prod.etl",
		"s3://b/_state.json?endpoint=https://m.io": "s3://b/_state.shard-2.json?endpoint=https://m.io",
	} {
		if got := load.ShardStatePath(base, 2); got != want {
			t.Errorf("ShardStatePath(%q) = %q, want %q", base, got, want)
		}
	}
	if !storage.IsURL("s3://b") || !storage.IsURL("gs://b/p") || storage.IsURL("./out") || storage.IsURL("/tmp/x") || storage.IsURL(`C:\out`) {
		t.Error("IsURL tells URLs from paths wrongly")
	}
}

// TestBlobStorageOnS3 checks the object-storage contract on a real
// S3-compatible server: a big object goes up in parts and appears only
// whole, on Commit; an aborted upload leaves nothing; Remove, Exists, List
// and ranged reads; the state object; and wrong credentials fail at open,
// naming the bucket, with nothing written.
func TestBlobStorageOnS3(t *testing.T) {
	srv := testkit.StartS3(t, "lake")
	srv.SetEnv(t)
	ctx := context.Background()
	opts := storage.BlobOptions{S3Endpoint: srv.Endpoint}
	st, err := storage.OpenBlobStorage(ctx, "s3://lake/ds", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	big := make([]byte, 17<<20+12345) // over the 16 MiB multipart threshold: three parts of 8 MiB
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	w, err := st.Create(ctx, "activity/contract=1/date=2026-02-01/data.parquet")
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(big); off += 1 << 20 {
		if _, err := w.Write(big[off:min(off+1<<20, len(big))]); err != nil {
			t.Fatal(err)
		}
		if ok, _ := st.Exists(ctx, "activity/contract=1/date=2026-02-01/data.parquet"); ok {
			t.Fatal("the object is visible before Commit")
		}
	}
	if keys := srv.Keys(t); len(keys) != 0 {
		t.Fatalf("objects listed while uploading: %v", keys)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if calls := srv.Calls(); count(calls, "POST uploads") != 1 || count(calls, "PUT part") != 3 || count(calls, "POST complete") != 1 {
		t.Errorf("a %d-byte object did not go up as one multipart upload of three parts: %v", len(big), calls)
	}
	f, err := st.Open(ctx, "activity/contract=1/date=2026-02-01/data.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if end, _ := f.Seek(0, io.SeekEnd); end != int64(len(big)) {
		t.Errorf("size %d, want %d", end, len(big))
	}
	got := make([]byte, 1000)
	if n, err := f.ReadAt(got, 7<<20); n != 1000 || err != nil || !bytes.Equal(got, big[7<<20:7<<20+1000]) {
		t.Errorf("ReadAt in the middle: %d, %v, equal %v", n, err, bytes.Equal(got, big[7<<20:7<<20+1000]))
	}
	if n, err := f.ReadAt(got, int64(len(big)-10)); n != 10 || !errors.Is(err, io.EOF) || !bytes.Equal(got[:10], big[len(big)-10:]) {
		t.Errorf("ReadAt at the end: %d, %v", n, err)
	}
	f.Close()

	// An aborted upload, after parts went up, leaves no object.
	w, err = st.Create(ctx, "activity/contract=1/date=2026-02-02/data.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(big); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if calls := srv.Calls(); count(calls, "POST uploads") != 1 || count(calls, "POST complete") != 1 {
		t.Errorf("the aborted file was uploaded: %v", calls)
	}
	if keys := srv.Keys(t); !slices.Equal(keys, []string{"ds/activity/contract=1/date=2026-02-01/data.parquet"}) {
		t.Errorf("after an abort the bucket holds %v", keys)
	}
	names, err := st.List(ctx, "activity/", ".parquet")
	if err != nil || !slices.Equal(names, []string{"activity/contract=1/date=2026-02-01/data.parquet"}) {
		t.Errorf("List = %v, %v", names, err)
	}
	if err := st.Remove(ctx, "activity/contract=1/date=2026-02-01/data.parquet"); err != nil {
		t.Fatal(err)
	}
	if err := st.Remove(ctx, "activity/contract=1/date=2026-02-01/data.parquet"); err != nil {
		t.Errorf("removing a missing object: %v", err)
	}
	if _, err := st.Open(ctx, "activity/contract=1/date=2026-02-01/data.parquet"); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, storage.ErrStorageAccess) {
		t.Errorf("opening a removed object: %v, want fs.ErrNotExist", err)
	}
	if _, err := st.Create(ctx, "../escape.parquet"); err == nil {
		t.Error("a name escaping the prefix was accepted")
	}

	// The state object, and its shard family, in the bucket.
	s1, err := load.OpenState(ctx, "s3://lake/ds/_state.shard-1.json", "s3://lake/ds/_state.json", opts)
	if err != nil {
		t.Fatal(err)
	}
	if s1.Found() {
		t.Error("an empty bucket has state")
	}
	day := time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)
	if err := s1.SetCursor(ctx, "activity", "urn:li:salesContract:1", day); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	srv.Put(t, "ds/sub/_state.json", []byte(`not state`)) // not of the family: below the top level
	s0, err := load.OpenState(ctx, "s3://lake/ds/_state.json", "s3://lake/ds/_state.json", opts)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok, err := s0.Cursor(ctx, "activity", "urn:li:salesContract:1"); !ok || err != nil || !c.Equal(day) || !s0.Found() {
		t.Errorf("the unsharded state does not read its shard's cursor from the bucket: %v %v %v", c, ok, err)
	}
	if n, err := s0.Reset(ctx, "activity", ""); n != 1 || err != nil {
		t.Errorf("reset: %d, %v", n, err)
	}
	s0.Close()
	again, _ := load.OpenState(ctx, "s3://lake/ds/_state.shard-1.json", "s3://lake/ds/_state.json", opts)
	if _, ok, _ := again.Cursor(ctx, "activity", "urn:li:salesContract:1"); ok {
		t.Error("reset left the shard's cursor in the bucket")
	}
	again.Close()
	srv.Put(t, "ds/_state.json", []byte(`{"version":1,"streams":["activity"]}`))
	if _, err := load.OpenState(ctx, "s3://lake/ds/_state.json", "s3://lake/ds/_state.json", opts); !errors.Is(err, load.ErrStateCorrupt) || !strings.Contains(err.Error(), "s3://lake/ds/_state.json") {
		t.Errorf("corrupt state object: %v", err)
	}
	// One unreadable entry fails its own stream and contract only.
	srv.Put(t, "ds/_state.json", []byte(`{"version":1,"streams":{"activity":{"c":{"cursor":"yesterday"}}}}`))
	bad, err := load.OpenState(ctx, "s3://lake/ds/_state.json", "s3://lake/ds/_state.json", opts)
	if err != nil {
		t.Fatalf("one unreadable entry: %v", err)
	}
	if _, _, err := bad.Cursor(ctx, "activity", "c"); !errors.Is(err, load.ErrStateCorrupt) || !strings.Contains(err.Error(), "s3://lake/ds/_state.json") {
		t.Errorf("unreadable entry in a state object: %v", err)
	}
	bad.Close()

	// Wrong credentials: a clear error at open, naming the bucket, and
	// nothing written. s3rver checks the key id only; MinIO the signature too.
	before := srv.Keys(t)
	wrong := map[string]string{"AWS_ACCESS_KEY_ID": "WRONGKEYID"}
	if srv.Kind == "minio" {
		wrong["AWS_SECRET_ACCESS_KEY"] = "wrong-" + srv.Secret
	}
	for k, v := range wrong {
		srv.SetEnv(t)
		t.Setenv(k, v)
		_, err = storage.OpenBlobStorage(ctx, "s3://lake/other", opts)
		if !errors.Is(err, storage.ErrStorageAccess) || !strings.Contains(err.Error(), "s3://lake/other") || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
			t.Errorf("wrong %s: %v", k, err)
		}
		if strings.Contains(fmtErr(err), srv.Secret) {
			t.Error("the secret appears in the error")
		}
		if after := srv.Keys(t); !slices.Equal(before, after) {
			t.Errorf("wrong credentials wrote: %v → %v", before, after)
		}
	}
	srv.SetEnv(t)
	if _, err := storage.OpenBlobStorage(ctx, "s3://no-such-bucket/x", opts); !errors.Is(err, storage.ErrStorageAccess) || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Errorf("missing bucket: %v", err)
	}
	if _, err := storage.OpenBlobStorage(ctx, "ftp://lake/x", opts); err == nil || !strings.Contains(err.Error(), `"ftp"`) {
		t.Errorf("unsupported scheme: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func count(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}
