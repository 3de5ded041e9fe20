package chsink_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// TestClusterDrift: on the two-shard cluster, drift columns reach every
// node. CRM exports with a new column, one per shard (so one is staged and
// replaced on the other node, and a second one there arrives after a
// first drift), and an activity window with a new column moved through the
// Distributed table. Then the table, the Distributed table and the view
// have the columns on both nodes, and the rows read from either node carry
// them. A Distributed table and a view left without a column (a run killed
// after the ALTER) are made again by the next sink.
func TestClusterDrift(t *testing.T) {
	c := chtest.StartCluster(t)
	layout := chsink.Layout{Cluster: chtest.Sharded}
	open := func(node int) *chsink.Sink {
		sink, err := chsink.Open(context.Background(), chsink.Config{DSN: c.DSN("drift", node), Layout: layout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sink.Close() })
		return sink
	}
	sink := open(0)
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	// Instances whose exports hash to each shard.
	var byShard [2][]string
	for i := 0; len(byShard[0]) < 2 || len(byShard[1]) < 2; i++ {
		inst := fmt.Sprintf("urn:li:crmInstance:(SFDC,X%d)", i)
		out := c.Query(t, 0, fmt.Sprintf("SELECT cityHash64(toString('%s'), toInt64(%d)) %% 2", inst, start.UnixMilli()))
		n := 0
		fmt.Sscan(out[0], &n)
		byShard[n] = append(byShard[n], inst)
	}
	commit := func(inst, csv string) {
		t.Helper()
		if _, err := openCRMWindow(t, sink, inst, start, csv).Commit(context.Background()); err != nil {
			t.Fatalf("%s: %v", inst, err)
		}
	}
	commit(byShard[0][0], "recordId,recordType\nr1,CONTACT\n")
	commit(byShard[1][0], "recordId,recordType,owner\nr2,LEAD,ann\n")   // staged on node 1, new column
	commit(byShard[1][1], "recordId,recordType,region\nr3,LEAD,emea\n") // node 1 again, another column
	commit(byShard[0][1], "recordId,recordType,owner\nr4,CONTACT,bob\n")
	// An event window with a new column, moved through the Distributed
	// table (rebuilt with the column first).
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	csv := strings.TrimSuffix(testkit.ActivityHeader, "\n") + ",region\n"
	for i := range 20 {
		csv += fmt.Sprintf("a%02d,SAVED_LEAD,03-01-2026 %02d:00:00,%d,,r%d\n", i, i, 7000+i, i)
	}
	tr, err := transform.NewReader(strings.NewReader(csv),
		schema.Activity, transform.WithLineage(transform.Lineage{Contract: "urn:li:salesContract:1", WindowStart: day, WindowEnd: day.AddDate(0, 0, 1), JobID: 2, ExtractedAt: day}))
	if err != nil {
		t.Fatal(err)
	}
	ww, err := sink.OpenWindow(context.Background(), load.Window{Stream: schema.Activity, Contract: "urn:li:salesContract:1", PartitionID: "1",
		Start: day, End: day.AddDate(0, 0, 1), JobID: 2}, tr.Schema())
	if err != nil {
		t.Fatal(err)
	}
	for tr.Next() {
		if err := ww.Write(context.Background(), tr.RecordBatch()); err != nil {
			t.Fatal(err)
		}
	}
	tr.Release()
	if _, err := ww.Commit(context.Background()); err != nil {
		t.Fatalf("activity with a drift column: %v", err)
	}
	for node := range 2 {
		if got := c.Query(t, node, "SELECT count(), countIf(region = concat('r', toString(toInt32(substring(activityId, 2))))) FROM drift.activity_final"); !slices.Equal(got, []string{"20\t20"}) {
			t.Errorf("node %d reads activity regions %v through the view", node, got)
		}
	}
	if a, b := c.Query(t, 0, "SELECT count() FROM drift.activity"), c.Query(t, 1, "SELECT count() FROM drift.activity"); a[0] == "0" || b[0] == "0" {
		t.Errorf("the 20 activity rows all went to one shard (%s, %s)", a[0], b[0])
	}
	for node := range 2 {
		for _, table := range []string{"crm_validation", "crm_validation_dist", "crm_validation_final"} {
			cols := c.Query(t, node, "SELECT name FROM system.columns WHERE database = 'drift' AND table = '"+table+"' AND name IN ('owner', 'region') ORDER BY name")
			if !slices.Equal(cols, []string{"owner", "region"}) {
				t.Errorf("node %d: %s has drift columns %v, want owner, region", node, table, cols)
			}
		}
		got := c.Query(t, node, "SELECT recordId, ifNull(owner, ''), ifNull(region, '') FROM drift.crm_validation_final ORDER BY recordId")
		if want := []string{"r1\t\t", "r2\tann\t", "r3\t\temea", "r4\tbob\t"}; !slices.Equal(got, want) {
			t.Errorf("node %d reads %q, want %q", node, got, want)
		}
	}
	for shard := range 2 {
		if n := c.Query(t, shard, "SELECT count() FROM drift.crm_validation"); n[0] != "2" {
			t.Errorf("node %d holds %s CRM rows, want its shard's 2", shard, n[0])
		}
	}

	// A run killed after the ALTER, before the Distributed table and the
	// view were made again: the next sink sees them lack the column.
	c.Query(t, 0, "ALTER TABLE drift.crm_validation ON CLUSTER sharded ADD COLUMN zone Nullable(String)")
	again := open(1)
	commit2 := openCRMWindow(t, again, byShard[0][0], start.Add(time.Hour), "recordId,recordType,zone\nr5,LEAD,z1\n")
	if _, err := commit2.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	for node := range 2 {
		for _, table := range []string{"crm_validation_dist", "crm_validation_final"} {
			if cols := c.Query(t, node, "SELECT count() FROM system.columns WHERE database = 'drift' AND table = '"+table+"' AND name = 'zone'"); cols[0] != "1" {
				t.Errorf("node %d: %s still lacks the column zone", node, table)
			}
		}
	}
	if got := c.Query(t, 1, "SELECT ifNull(zone, '') FROM drift.crm_validation_final WHERE recordId = 'r5'"); !slices.Equal(got, []string{"z1"}) {
		t.Errorf("r5 reads %v through the view, want z1", got)
	}
}
