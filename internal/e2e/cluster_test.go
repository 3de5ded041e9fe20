package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/internal/cli"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// TestClickHouseCluster loads every stream into a ClickHouse cluster made
// of ZooKeeper and two 18.16 nodes (chtest.StartCluster) and compares it
// with a single server loaded by the same two runs:
//   - "sharded" (two shards of one replica): both nodes' views show the
//     single server's rows; each node's tables hold only the rows the
//     Distributed table's sharding key sends there, both shards some; the
//     dimensions and the state, replicated to every node, are whole on
//     both; a second run later replaces snapshots on their shard.
//   - "replicated" (one shard of two replicas): node 1 is killed (SIGKILL)
//     when the second run creates its first export job; the run loads its
//     windows and completes; after a restart node 1 catches up, and its own
//     tables equal node 0's and the single server's, with no duplicate.
func TestClickHouseCluster(t *testing.T) {
	realBinary(t)
	cluster := chtest.StartCluster(t)
	single := chtest.Start(t)
	t.Cleanup(single.Close)
	now := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	instances := []string{"urn:li:crmInstance:(SFDC,00D1)", "urn:li:crmInstance:(SFDC,00D6)", "urn:li:crmInstance:(DYNAMICS,org-3)"}
	streams := []string{"contracts", "seat", "activity", "activity_outcome", "crm_validation", "profile_associations"}
	newFake := func() *testkit.Fake {
		return testkit.NewFake(t, fakeapi.Config{RowsPerDay: 40, Contracts: fakeapi.ManyContracts(6), Now: func() time.Time { return now },
			URLTTL: 100 * 365 * 24 * time.Hour})
	}
	env := func(fake *testkit.Fake, dsn, end string, extra ...string) map[string]string {
		e := map[string]string{"SALESNAV_API_URL": fake.URL, "SALESNAV_ACCESS_TOKEN": fakeapi.DefaultToken,
			"SALESNAV_START": "2026-03-01", "SALESNAV_END": end, "SALESNAV_STREAMS": strings.Join(streams, ","),
			"SALESNAV_CRM_INSTANCES": strings.Join(instances, " "), "SALESNAV_POLL_INTERVAL": "5ms", "SALESNAV_LOG_FORMAT": "json",
			"SALESNAV_SINK": "clickhouse", "SALESNAV_CLICKHOUSE_DSN": dsn, "SALESNAV_PARQUET_DIR": t.TempDir()}
		for i := 0; i+1 < len(extra); i += 2 {
			e[extra[i]] = extra[i+1]
		}
		return e
	}
	run := func(t *testing.T, what string, e map[string]string) {
		t.Helper()
		c := startCLI(t, e)
		if code := c.wait(); code != cli.ExitOK {
			t.Fatalf("%s: exit %d\n%s", what, code, strings.Join(c.log.lastErrors(), "\n"))
		}
	}
	// The single server, loaded by the same two runs (a snapshot each):
	// what every view must show.
	refFake := newFake()
	run(t, "single server", env(refFake, single.DSN("one"), "2026-03-05"))
	run(t, "single server", env(refFake, single.DSN("one"), "2026-03-09"))
	want := map[string][]string{}
	ref := testkit.ClickHouseTarget(t, single.DSN("one"))
	for _, st := range streams {
		want[st] = testkit.Stripped(ref.Rows(t, st))
		if len(want[st]) == 0 {
			t.Fatalf("the single server has no %s rows", st)
		}
	}
	compare := func(what, dsn string) {
		t.Helper()
		tg := testkit.ClickHouseTarget(t, dsn)
		for _, st := range streams {
			if got := testkit.Stripped(tg.Rows(t, st)); !slices.Equal(got, want[st]) {
				t.Errorf("%s: %s has %d rows, the single server %d, or they differ", what, st, len(got), len(want[st]))
			}
		}
	}
	count := func(node int, q string) int {
		t.Helper()
		out := cluster.Query(t, node, q)
		var n int
		if len(out) != 1 {
			t.Fatalf("%s: %v", q, out)
		}
		fmt.Sscan(out[0], &n)
		return n
	}

	t.Run("sharded", func(t *testing.T) {
		fake := newFake()
		extra := []string{"SALESNAV_CLICKHOUSE_CLUSTER", chtest.Sharded}
		run(t, "first run", env(fake, cluster.DSN("sharded", 0), "2026-03-05", extra...))
		run(t, "second run", env(fake, cluster.DSN("sharded", 1), "2026-03-09", extra...)) // through the other node
		compare("view on node 0", cluster.DSN("sharded", 0))
		compare("view on node 1", cluster.DSN("sharded", 1))
		for _, st := range []*schema.Stream{schema.Seat, schema.Activity, schema.ActivityOutcome, schema.CRMValidation} {
			key, _ := chsink.ShardingKey(st)
			total := 0
			for node := range 2 {
				// Node i is shard i+1: slot i of two.
				stray := count(node, fmt.Sprintf("SELECT count() FROM sharded.%s WHERE %s %% 2 != %d", st.Name, key, node))
				rows := count(node, "SELECT count() FROM sharded."+st.Name+" FINAL")
				if stray != 0 || rows == 0 {
					t.Errorf("%s on node %d: %d rows, %d of another shard", st.Name, node, rows, stray)
				}
				total += rows
			}
			if total != len(want[st.Name]) {
				t.Errorf("%s: %d rows on the shards, %d on the single server", st.Name, total, len(want[st.Name]))
			}
		}
		for _, table := range []string{"contracts", chsink.StateTable} {
			if a, b := count(0, "SELECT count() FROM sharded."+table+" FINAL"), count(1, "SELECT count() FROM sharded."+table+" FINAL"); a == 0 || a != b {
				t.Errorf("%s, replicated to every node: %d rows on node 0, %d on node 1", table, a, b)
			}
		}
		engine := cluster.Query(t, 1, "SELECT name, engine FROM system.tables WHERE database = 'sharded' ORDER BY name")
		for _, w := range []string{"activity\tReplicatedReplacingMergeTree", "activity_dist\tDistributed", "activity_final\tView", chsink.StateTable + "\tReplicatedReplacingMergeTree"} {
			if !slices.Contains(engine, w) {
				t.Errorf("node 1 lacks %q: %v", w, engine)
			}
		}
	})

	t.Run("replicated, a replica stopped mid-load", func(t *testing.T) {
		fake := newFake()
		extra := []string{"SALESNAV_CLICKHOUSE_CLUSTER", chtest.Replicated, "SALESNAV_CLICKHOUSE_ZK_PATH", "/clickhouse/tables/replicated/{database}/{table}"}
		run(t, "first run", env(fake, cluster.DSN("repl", 0), "2026-03-05", extra...))
		c := startCLI(t, env(fake, cluster.DSN("repl", 0), "2026-03-09", extra...))
		stopped, before := false, 0
		for msg := range c.log.ch {
			// The first job of the run: every window loads after it.
			if !stopped && (msg == "export job created" || msg == "CRM validation export created") {
				cluster.Nodes[1].Kill()
				stopped = true
				// Counted once it is down (the channel buffers lines).
				before = c.log.count("window loaded") + c.log.count("export loaded")
			}
		}
		total := c.log.count("window loaded") + c.log.count("export loaded")
		if code := <-c.done; code != cli.ExitOK || !stopped || total <= before {
			t.Fatalf("second run with node 1 stopped: exit %d, %d windows loaded before node 1 was down, %d after\n%s", code, before, total-before, strings.Join(c.log.lastLines(), "\n"))
		}
		if err := cluster.Nodes[1].Restart(); err != nil {
			t.Fatal(err)
		}
		for _, table := range append(slices.Clone(streams), chsink.StateTable, chsink.JobsTable) {
			cluster.Query(t, 1, "SYSTEM SYNC REPLICA repl."+table)
		}
		compare("view on node 0", cluster.DSN("repl", 0))
		for _, st := range streams {
			q := "SELECT count() FROM repl." + st + " FINAL"
			// Catching up goes on after SYNC REPLICA for some entries
			// (a partition replaced while the replica was down is
			// fetched): wait for it, up to a minute.
			a, b := count(0, q), count(1, q)
			for deadline := time.Now().Add(time.Minute); b != a && time.Now().Before(deadline); b = count(1, q) {
				time.Sleep(500 * time.Millisecond)
			}
			if a != b || a != len(want[st]) {
				t.Errorf("%s: node 0 holds %d rows, node 1 %d after catching up, the single server %d", st, a, b, len(want[st]))
				t.Logf("node 1 queue: %v", cluster.Query(t, 1, "SELECT type, new_part_name, last_exception, num_tries FROM system.replication_queue WHERE database = 'repl'"))
			}
		}
		// No duplicate on the replica that was down: its rows, read
		// without FINAL and merged, equal its rows read with it.
		// 18.16 can refuse an OPTIMIZE while the replica still has
		// entries of its queue to run: try again, for up to a minute.
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
			out, err := cluster.Nodes[1].Client("OPTIMIZE TABLE repl.activity FINAL")
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("OPTIMIZE on node 1: %v %v", err, out)
			}
			t.Logf("OPTIMIZE on node 1, again: %v %v", err, out)
		}
		if a, b := count(1, "SELECT count() FROM repl.activity"), count(1, "SELECT count() FROM repl.activity FINAL"); a != b {
			t.Errorf("node 1 holds %d activity rows, %d distinct", a, b)
		}
	})
}
