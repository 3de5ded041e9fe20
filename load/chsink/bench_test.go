package chsink_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
)

// BenchmarkClickHouseWindow loads 20 days of activity (about 200k rows)
// through a window: staging inserts, then the move into the table.
func BenchmarkClickHouseWindow(b *testing.B) {
	recs, s, w, rows := testkit.ActivityBatches(b, 20, 10_000)
	srv := chtest.Start(b)
	defer srv.Close()
	sink, err := chsink.Open(context.Background(), chsink.Config{DSN: srv.DSN(fmt.Sprintf("bench_%d", time.Now().UnixNano())), BatchRows: 50_000})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	b.ResetTimer()
	commit := loadWindows(b, sink, recs, s, w, rows)
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	// The share of the time spent moving the staged rows into the table
	// (the last insert is sent in Commit too).
	b.ReportMetric(100*commit.Seconds()/b.Elapsed().Seconds(), "%commit")
	for _, rec := range recs {
		rec.Release()
	}
}

// BenchmarkClickHouseClusterWindow is BenchmarkClickHouseWindow into the
// two-node cluster of chtest.StartCluster (ZooKeeper and two 18.16 nodes
// on this machine): "sharded" splits the rows over two shards through the
// Distributed table; "replicated" writes one shard that the other node
// replicates.
func BenchmarkClickHouseClusterWindow(b *testing.B) {
	recs, s, w, rows := testkit.ActivityBatches(b, 20, 10_000)
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	c := chtest.StartCluster(b)
	for _, l := range []chsink.Layout{
		{Cluster: chtest.Sharded},
		{Cluster: chtest.Replicated, ZKPath: "/clickhouse/tables/replicated/{database}/{table}"},
	} {
		b.Run(l.Cluster, func(b *testing.B) {
			sink, err := chsink.Open(context.Background(), chsink.Config{DSN: c.DSN(fmt.Sprintf("bench_%s_%d", l.Cluster, time.Now().UnixNano()), 0), Layout: l})
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			b.ResetTimer()
			loadWindows(b, sink, recs, s, w, rows)
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// loadWindows loads the window w of recs b.N times and returns the time
// spent in Commit (the last insert and the move into the table).
func loadWindows(b *testing.B, sink *chsink.Sink, recs []arrow.RecordBatch, s *arrow.Schema, w load.Window, rows int) time.Duration {
	var commit time.Duration
	for range b.N {
		ww, err := sink.OpenWindow(context.Background(), w, s)
		if err != nil {
			b.Fatal(err)
		}
		for _, rec := range recs {
			if err := ww.Write(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
		}
		began := time.Now()
		if st, err := ww.Commit(context.Background()); err != nil || st.Rows != int64(rows) {
			b.Fatalf("%+v %v", st, err)
		}
		commit += time.Since(began)
	}
	return commit
}
