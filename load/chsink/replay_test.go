package chsink_test

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// TestStatementsReplayOnCurrentClickHouse (issue 15): two full runs of
// every stream (an activity column LinkedIn does not document, a 2-day
// lookback, the second run reading the state back and loading again) go
// into ClickHouse 18.16, a single server and the two-shard cluster,
// recording every statement the sink sends. They are then replayed in
// order on a current ClickHouse (chDB), with the settings SettingsFor
// chooses for chDB's version, followed by the README's analysts' queries
// and checks of the data; any error fails the test. On the cluster, the
// statements chDB cannot run (ON CLUSTER, Replicated* and Distributed
// engines) are checked for syntax with EXPLAIN AST and run in their local
// form (chtest.LocalForm).
func TestStatementsReplayOnCurrentClickHouse(t *testing.T) {
	// chDB's version chooses the settings, as a server's handshake would.
	out := testkit.ChDB(t, "SELECT version()")
	if !out[0].OK {
		t.Fatalf("chDB: %s", out[0].Error)
	}
	current, err := chsink.ParseVersion(out[0].Out)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("single", func(t *testing.T) {
		s := chtest.Start(t)
		replay(t, current, s.DSN("replay"), chsink.Layout{})
	})
	t.Run("cluster", func(t *testing.T) {
		c := chtest.StartCluster(t)
		replay(t, current, c.DSN("replay", 0), chsink.Layout{Cluster: chtest.Sharded})
	})
}

// replay runs the two runs into the 18.16 server(s) of dsn, recording, and
// replays what was sent on chDB, which is ClickHouse version current.
func replay(t *testing.T, current chsink.Version, dsn string, layout chsink.Layout) {
	ctx := context.Background()
	rec := &chtest.Recorder{}
	sink, err := chsink.Open(ctx, chsink.Config{DSN: dsn, Layout: layout, WrapConn: rec.Wrap})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if v := sink.Version(); v.Major != 18 {
		t.Fatalf("the live server reports %s, want 18.x", v)
	}
	state, err := sink.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// One fixed clock, half-way through a minute, for the fake and both
	// runs: the second run's CRM export runs from the first one's end (the
	// minute's start) to the same minute, so it holds no rows, whenever
	// the test runs.
	now := time.Now().UTC().Truncate(time.Minute).Add(30 * time.Second)
	clock := func() time.Time { return now }
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 20, Now: clock})
	fake.Mangle = withRegion
	instances := []string{"urn:li:crmInstance:(SFDC,00D5e000000abc)"}
	end := pipeline.Day(now)
	start := end.AddDate(0, 0, -3)
	all := func(c *pipeline.Config) {
		c.Streams = schema.All()
		c.CRMInstances = instances
		c.LookbackDays = 2
		c.RetryDelay = time.Millisecond
		c.Now = clock
	}
	for run := 1; run <= 2; run++ {
		sum, err := testkit.Run(t, fake.URL, sink, state, t.TempDir(), nil, start, end, all)
		if err != nil || sum.Status != pipeline.StatusComplete {
			t.Fatalf("run %d on 18.16: %v, status %s, errors %+v", run, err, sum.Status, sum.Errors)
		}
	}
	stmts := rec.Statements()
	db := sink.Database()
	cluster := layout.Cluster != ""

	// A partition replaced from an empty stage (the second run's CRM
	// export, from the first one's end to now, has no rows): 26.6 and
	// later refuse that unless asked (ReplaceSettings).
	filled := map[string]bool{}
	emptyReplaces := 0
	replaceFrom := regexp.MustCompile(` REPLACE PARTITION .* FROM (\S+)$`)
	for _, s := range stmts {
		if s.Insert() && len(s.Rows) > 0 {
			filled[strings.Fields(s.SQL)[2]] = true
		}
		if m := replaceFrom.FindStringSubmatch(s.SQL); m != nil && !filled[m[1]] {
			emptyReplaces++
		}
	}
	if emptyReplaces == 0 {
		t.Error("no partition was replaced from an empty stage")
	}
	// What the runs must have sent, for the replay to prove anything.
	kinds := map[string]*regexp.Regexp{
		"create database":        regexp.MustCompile(`^CREATE DATABASE`),
		"create table":           regexp.MustCompile("^CREATE TABLE IF NOT EXISTS `" + db + "`.`activity`"),
		"create view":            regexp.MustCompile(`^CREATE VIEW`),
		"staging table":          regexp.MustCompile("^CREATE TABLE `" + db + "`.`_stage"),
		"drift ALTER":            regexp.MustCompile("^ALTER TABLE .* ADD COLUMN (IF NOT EXISTS )?`region`"),
		"REPLACE PARTITION":      regexp.MustCompile(`REPLACE PARTITION`),
		"move INSERT … SELECT":   regexp.MustCompile(`^INSERT INTO .* SELECT `),
		"batch insert":           regexp.MustCompile("^INSERT INTO `" + db + "`.`_stage"),
		"DROP":                   regexp.MustCompile(`^DROP `),
		"state read":             regexp.MustCompile("FROM `" + db + "`.`" + chsink.StateTable + "` FINAL"),
		"state write":            regexp.MustCompile("^INSERT INTO `" + db + "`.`" + chsink.StateTable + "`"),
		"read through a view":    regexp.MustCompile("FROM `" + db + "`.`[a-z_]+_final`"),
		"ON CLUSTER":             regexp.MustCompile(` ON CLUSTER `),
		"Distributed table made": regexp.MustCompile(`ENGINE = Distributed\(`),
	}
	if !cluster {
		delete(kinds, "ON CLUSTER")
		delete(kinds, "Distributed table made")
	}
	seen := map[string]int{}
	for _, s := range stmts {
		for k, re := range kinds {
			if re.MatchString(s.SQL) {
				seen[k]++
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		if seen[k] == 0 {
			t.Errorf("the runs sent no statement of kind %q", k)
		}
	}

	// The script: the settings, every statement, the README's queries and
	// the data checks.
	var script, what []string
	add := func(stmt, label string) {
		script = append(script, stmt)
		what = append(what, label)
	}
	settings := maps.Clone(chsink.SettingsFor(current, cluster))
	maps.Copy(settings, chsink.MoveSettings())
	maps.Copy(settings, chsink.ReplaceSettings(current))
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		add(fmt.Sprintf("SET %s = %v", k, settings[k]), "setting")
	}
	ran, checked := 0, 0
	for i, s := range stmts {
		check, run := chtest.LocalForm(s.SQL)
		if check != "" {
			add("EXPLAIN AST "+check, fmt.Sprintf("statement %d, syntax", i+1))
			checked++
		}
		if run == "" {
			continue
		}
		st := s
		st.SQL = run
		add(st.Text(), fmt.Sprintf("statement %d", i+1))
		ran++
	}
	for _, q := range testkit.READMEQueries(t) {
		add(strings.ReplaceAll(q, "salesnav.", "`"+db+"`."), "README query")
	}
	add("SELECT count() FROM `"+db+"`.activity_final", "check: activity rows")
	add("SELECT count() FROM `"+db+"`.activity_final WHERE region = 'emea'", "check: drift column")
	res := testkit.ChDB(t, script...)
	if len(res) != len(script) {
		t.Fatalf("chDB answered %d of %d statements", len(res), len(script))
	}
	failed := 0
	for i, r := range res {
		if !r.OK {
			failed++
			if failed <= 10 {
				t.Errorf("%s failed on ClickHouse %s: %s\n%s", what[i], current, r.Error, script[i])
			}
		}
	}
	if failed > 10 {
		t.Errorf("… and %d more", failed-10)
	}
	n := len(res)
	for i, label := range []string{"activity rows", "rows with the drift column"} {
		if got := strings.TrimSpace(res[n-2+i].Out); got == "" || got == "0" {
			t.Errorf("%s on ClickHouse %s after the replay: %q", label, current, got)
		}
	}
	for i := n - 5; i < n-2; i++ {
		if strings.TrimSpace(res[i].Out) == "" {
			t.Errorf("README query returned nothing on ClickHouse %s:\n%s", current, script[i])
		}
	}
	t.Logf("%d statements recorded on 18.16; on ClickHouse %s: %d run, %d checked for syntax only", len(stmts), current, ran, checked)
}

// withRegion adds a column LinkedIn does not document to activity files.
func withRegion(b []byte) []byte {
	if !testkit.IsActivityFile(b) {
		return b
	}
	lines := strings.SplitAfter(string(b), "\n")
	var out strings.Builder
	for i, l := range lines {
		if l == "" {
			continue
		}
		body := strings.TrimRight(l, "\r\n")
		extra := ",emea"
		if i == 0 {
			extra = ",region"
		}
		out.WriteString(body + extra + l[len(body):])
	}
	return []byte(out.String())
}
