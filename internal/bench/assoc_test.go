package bench

// `make bench-assoc`: one run of profile_associations that adds NEW keys
// (default 10,000) to a dataset of KEYS keys (default 1,000,000): KEYS CRM
// records in exports of NEW records each for one CRM instance, all looked
// up already (one MATCHED row each), then one more export of NEW records.
// The run's associations are measured: wall time and the bytes the
// Parquet sink read and wrote. It runs only with SALESNAV_BENCH_ASSOC=1,
// and uses nothing the connector had before the watermarks, so that the
// same file measures the code before them.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

const benchInstance = "urn:li:crmInstance:(SFDC,00Dbench)"

// matchAll answers every key with a match, at once.
type matchAll struct {
	pipeline.API
	asked atomic.Int64
}

func (m *matchAll) ProfileAssociations(_ context.Context, keys []extract.AssociationKey) ([]extract.AssociationResult, error) {
	m.asked.Add(int64(len(keys)))
	out := make([]extract.AssociationResult, len(keys))
	for i, k := range keys {
		out[i] = extract.AssociationResult{Key: k, Status: 200, Association: &extract.ProfileAssociation{Member: "urn:li:member:" + k.RecordID, Profile: "https://www.linkedin.com/sales/people/" + k.RecordID}}
	}
	return out, nil
}

// countingStorage counts the bytes read from and written to storage.
type countingStorage struct {
	storage.Storage
	read, written atomic.Int64
}

type countingFile struct {
	storage.File
	n *atomic.Int64
}

func (f countingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	f.n.Add(int64(n))
	return n, err
}

func (f countingFile) Read(p []byte) (int, error) {
	r, ok := f.File.(interface{ Read([]byte) (int, error) })
	if !ok {
		return 0, fmt.Errorf("not a reader")
	}
	n, err := r.Read(p)
	f.n.Add(int64(n))
	return n, err
}

type countingStaged struct {
	storage.Staged
	n *atomic.Int64
}

func (s countingStaged) Write(p []byte) (int, error) {
	n, err := s.Staged.Write(p)
	s.n.Add(int64(n))
	return n, err
}

func (c *countingStorage) Open(ctx context.Context, name string) (storage.File, error) {
	f, err := c.Storage.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return countingFile{File: f, n: &c.read}, nil
}

func (c *countingStorage) Create(ctx context.Context, name string) (storage.Staged, error) {
	s, err := c.Storage.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	return countingStaged{Staged: s, n: &c.written}, nil
}

// crmExport writes one CRM validation export of records [from, to).
func crmExport(t *testing.T, sink load.Sink, mem memory.Allocator, start, next time.Time, from, to int) {
	t.Helper()
	st := schema.CRMValidation
	fields := make([]arrow.Field, 0, len(st.Columns)+5)
	for _, c := range st.Columns {
		fields = append(fields, c.Field())
	}
	sc := arrow.NewSchema(append(fields, st.LineageFields()...), nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	for i := from; i < to; i++ {
		for j, f := range sc.Fields() {
			switch f.Name {
			case schema.CRMRecordIDColumn:
				b.Field(j).(*array.StringBuilder).Append(fmt.Sprintf("003%09d", i))
			case schema.LineageCRMInstance:
				b.Field(j).(*array.StringBuilder).Append(benchInstance)
			case schema.LineageExportStartAt:
				b.Field(j).(*array.Int64Builder).Append(start.UnixMilli())
			case schema.LineageNextExportStartAt:
				b.Field(j).(*array.Int64Builder).Append(next.UnixMilli())
			case schema.LineageJobID:
				b.Field(j).(*array.Int64Builder).Append(int64(from))
			case schema.LineageExtractedAt:
				b.Field(j).(*array.TimestampBuilder).Append(arrow.Timestamp(next.UnixMilli()))
			default:
				b.Field(j).(*array.StringBuilder).Append("Acme " + strconv.Itoa(i%1000))
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	w := load.Window{Stream: st, Contract: benchInstance, PartitionID: load.PartitionID(benchInstance), Start: start, End: next, JobID: int64(from)}
	ww, err := sink.OpenWindow(context.Background(), w, sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := ww.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if _, err := ww.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestBenchAssociations(t *testing.T) {
	if os.Getenv("SALESNAV_BENCH_ASSOC") != "1" {
		t.Skip("SALESNAV_BENCH_ASSOC=1 runs the profile associations benchmark")
	}
	keys, fresh := envInt("KEYS", 1_000_000), envInt("NEW", 10_000)
	dir := t.TempDir()
	ds, err := storage.NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStorage{Storage: ds}
	mem := memory.DefaultAllocator
	sink, err := parquet.NewSink(parquet.Config{Storage: cs})
	if err != nil {
		t.Fatal(err)
	}
	state, err := load.OpenFileState(filepath.Join(dir, "_state.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	began := time.Now()
	// History: KEYS records in exports of NEW, one day apart, all looked up.
	t0 := time.Now().UTC().Add(-time.Duration(keys/fresh+2) * 24 * time.Hour).Truncate(time.Hour)
	at := func(i int) time.Time { return t0.Add(time.Duration(i/fresh) * 24 * time.Hour) }
	for i := 0; i < keys; i += fresh {
		crmExport(t, sink, mem, at(i), at(i+fresh), i, min(i+fresh, keys))
	}
	b := schema.NewBuilder(mem, schema.ProfileAssociations.Schema())
	api := &matchAll{}
	all := make([]extract.AssociationKey, keys)
	for i := range all {
		all[i] = extract.AssociationKey{InstanceID: "00Dbench", Partner: "SFDC", RecordID: fmt.Sprintf("003%09d", i)}
	}
	res, _ := api.ProfileAssociations(ctx, all)
	for _, a := range res {
		pipeline.AppendAssociation(b, a, schema.AssociationMatched, arrow.Timestamp(t0.UnixMilli()))
	}
	rec := b.NewRecordBatch()
	b.Release()
	if _, err := sink.MergeDimension(ctx, schema.ProfileAssociations, rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	// The watermark a run before would have saved (the code before it
	// ignores it).
	if err := state.SetCursor(ctx, schema.ProfileAssociations.Name, benchInstance, at(keys)); err != nil {
		t.Fatal(err)
	}
	// This run's export.
	crmExport(t, sink, mem, at(keys), at(keys).Add(time.Hour), keys, keys+fresh)
	setup := time.Since(began)
	api.asked.Store(0)
	cs.read.Store(0)
	cs.written.Store(0)

	began = time.Now()
	sum, err := testkit.RunWith(t, api, sink, state, t.TempDir(), mem, t0, time.Now().UTC(), func(c *pipeline.Config) {
		c.Streams = []*schema.Stream{schema.ProfileAssociations}
	})
	wall := time.Since(began)
	if err != nil || sum.Status != pipeline.StatusComplete {
		t.Fatalf("run: %v, %+v", err, sum.Errors)
	}
	if api.asked.Load() != int64(fresh) {
		t.Errorf("asked %d keys, want %d", api.asked.Load(), fresh)
	}
	var size int64
	files, _ := filepath.Glob(filepath.Join(dir, schema.ProfileAssociations.Name, "*.parquet"))
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	t.Logf("setup %s (%d keys in %d exports)", setup.Round(time.Millisecond), keys, (keys+fresh-1)/fresh)
	t.Logf("profile_associations run adding %d keys to %d: wall %.2f s, read %.1f MB, written %.1f MB, asked %d keys; dimension now %d file(s), %.1f MB",
		fresh, keys, wall.Seconds(), float64(cs.read.Load())/1e6, float64(cs.written.Load())/1e6, api.asked.Load(), len(files), float64(size)/1e6)
}
