package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/internal/cli"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

func TestShardsTogetherEqualOneRun(t *testing.T) {
	realBinary(t)
	now := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	// CRM instances on every shard (by the hash: 0, 1, 2, 2).
	instances := []string{"urn:li:crmInstance:(SFDC,00D1)", "urn:li:crmInstance:(SFDC,00D6)", "urn:li:crmInstance:(DYNAMICS,org-3)", "urn:li:crmInstance:(DYNAMICS,org-7)"}
	for i := range 3 {
		if !slices.ContainsFunc(instances, func(inst string) bool { return pipeline.ShardOf(inst, 3) == i }) {
			t.Fatalf("no CRM instance on shard %d: pick others", i)
		}
	}
	streams := []string{"contracts", "seat", "activity", "activity_outcome", "crm_validation", "profile_associations"}
	newFake := func() *testkit.Fake {
		return testkit.NewFake(t, fakeapi.Config{RowsPerDay: 40, Contracts: fakeapi.ManyContracts(7), Now: func() time.Time { return now },
			URLTTL: 100 * 365 * 24 * time.Hour})
	}
	base := func(fake *testkit.Fake) map[string]string {
		return map[string]string{"SALESNAV_API_URL": fake.URL, "SALESNAV_ACCESS_TOKEN": fakeapi.DefaultToken,
			"SALESNAV_START": "2026-03-01", "SALESNAV_END": "2026-03-09", "SALESNAV_STREAMS": strings.Join(streams, ","),
			"SALESNAV_CRM_INSTANCES": strings.Join(instances, " "), "SALESNAV_POLL_INTERVAL": "5ms", "SALESNAV_LOG_FORMAT": "json"}
	}
	for _, sink := range []string{"parquet", "clickhouse"} {
		t.Run(sink, func(t *testing.T) {
			var ch *chtest.Server
			if sink == "clickhouse" {
				ch = chtest.Start(t)
				t.Cleanup(ch.Close)
			}
			target := func(name string) (map[string]string, func(t *testing.T, st string) []string) {
				tg := parquetCLITarget(t)
				if sink == "clickhouse" {
					tg = clickhouseCLITarget(t, ch.DSN("shards_"+name))
				}
				return tg.env, tg.rows
			}
			// One unsharded run.
			oneFake := newFake()
			oneEnv, oneRows := target("one")
			env := base(oneFake)
			for k, v := range oneEnv {
				env[k] = v
			}
			if code := startCLI(t, env).wait(); code != cli.ExitOK {
				t.Fatalf("unsharded run: exit %d", code)
			}
			// Three shards at once, into one output; shard 2 as an Indexed
			// Job's pod sees it.
			fake := newFake()
			shEnv, shRows := target("three")
			summaries := make([]string, 3)
			round := func() {
				var children []*child
				for i := range 3 {
					env := base(fake)
					for k, v := range shEnv {
						env[k] = v
					}
					if i == 2 {
						env["SALESNAV_SHARDS"], env["JOB_COMPLETION_INDEX"] = "3", "2"
					} else {
						env["SALESNAV_SHARD"] = fmt.Sprintf("%d/3", i)
					}
					summaries[i] = filepath.Join(t.TempDir(), "summary.json")
					children = append(children, startCLIArgs(t, env, "run", "--summary", summaries[i]))
				}
				for i, c := range children {
					if code := c.wait(); code != cli.ExitOK {
						t.Fatalf("shard %d: exit %d", i, code)
					}
				}
			}
			round()
			// Every reporting contract and CRM instance in exactly one shard.
			var all, allInstances []string
			for i, p := range summaries {
				raw, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				var sum pipeline.Summary
				if err := json.Unmarshal(raw, &sum); err != nil {
					t.Fatal(err)
				}
				if sum.Shard != fmt.Sprintf("%d/3", i) {
					t.Errorf("summary %d says shard %q", i, sum.Shard)
				}
				all = append(all, sum.Contracts...)
				allInstances = append(allInstances, sum.CRMInstances...)
				if _, ok := sum.Streams["contracts"]; ok != (i == 0) {
					t.Errorf("shard %d: contracts loaded %v; only shard 0 loads it", i, ok)
				}
			}
			sort.Strings(all)
			if want := reportingURNs(7); !slices.Equal(all, want) {
				t.Errorf("contracts over the shards %v, want each of %v once", all, want)
			}
			sort.Strings(allInstances)
			if want := slices.Sorted(slices.Values(instances)); !slices.Equal(allInstances, want) {
				t.Errorf("CRM instances over the shards %v, want each of %v once", allInstances, want)
			}
			if calls := fake.Server.Calls()["createCrmValidationExport"]; calls != len(instances) {
				t.Errorf("%d CRM validation exports created, want one per instance (%d)", calls, len(instances))
			}
			creates := map[string]int{}
			for _, q := range fake.Requests() {
				creates[q.Contract]++
			}
			for c, n := range creates {
				if n != 3 {
					t.Errorf("%s: %d export jobs, want 3 (one per stream: no contract in two shards)", c, n)
				}
			}
			// The same rows as the unsharded run. Profile associations are
			// shard 0's, of the CRM records loaded when it got to them: the
			// next round (a day later, say) catches up the other shards'.
			for _, st := range streams {
				if st == "profile_associations" {
					continue
				}
				if got, want := testkit.Stripped(shRows(t, st)), testkit.Stripped(oneRows(t, st)); !slices.Equal(got, want) || len(want) == 0 {
					t.Errorf("%s: %d rows from three shards, %d from one run", st, len(got), len(want))
				}
			}
			round()
			if got, want := testkit.Stripped(shRows(t, "profile_associations")), testkit.Stripped(oneRows(t, "profile_associations")); !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("profile_associations after a second round: %d rows, one run %d", len(got), len(want))
			}
			if sink == "parquet" {
				// Each shard wrote its own state file, with its own contracts.
				for i := range 3 {
					raw, err := os.ReadFile(filepath.Join(shEnv["SALESNAV_PARQUET_DIR"], fmt.Sprintf("_state.shard-%d.json", i)))
					if err != nil {
						t.Fatal(err)
					}
					for _, c := range reportingURNs(7) {
						if strings.Contains(string(raw), `"`+c+`"`) != (pipeline.ShardOf(c, 3) == i) {
							t.Errorf("shard %d's state and %s disagree with the hash", i, c)
						}
					}
				}
			}
		})
	}
}

func reportingURNs(n int) []string {
	var out []string
	for _, c := range fakeapi.ManyContracts(n) {
		if c.HasReportingAccess {
			out = append(out, c.URN)
		}
	}
	sort.Strings(out)
	return out
}
