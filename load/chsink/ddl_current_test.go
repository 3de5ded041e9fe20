package chsink_test

import (
	"strings"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// TestDDLOnCurrentClickHouse runs every statement the sink issues on a
// current ClickHouse (chDB, in-process): the same DDL must work there and
// on 18.16 (the integration tests).
func TestDDLOnCurrentClickHouse(t *testing.T) {
	var stmts []string
	add := func(s string, err error) {
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, s)
	}
	add(chsink.CreateDatabase("salesnav"))
	for _, st := range schema.All() {
		ddl, err := chsink.StreamDDL("salesnav", st)
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, ddl...)
	}
	add(chsink.CreateStateTable("salesnav"))
	add(chsink.CreateJobsTable("salesnav"))
	add(chsink.AddColumn("salesnav", "activity", chsink.Column{Name: "region`x", Type: "Nullable(String)"}))
	add(chsink.DropView("salesnav", "activity"))
	add(chsink.CreateView("salesnav", schema.Activity))
	stmts = append(stmts,
		"INSERT INTO salesnav.activity (activityId, activityType, createdAt, seatId, memberIdentityKey, _contract, _window_start, _window_end, _job_id, _extracted_at) VALUES ('a1', 'SAVED_LEAD', '2026-03-01 10:00:00', 1, NULL, 'c', '2026-03-01 00:00:00', '2026-03-01 23:59:59', 1, '2026-03-02 00:00:00'), ('a1', 'SAVED_LEAD', '2026-03-01 10:00:00', 1, 'm', 'c', '2026-03-01 00:00:00', '2026-03-01 23:59:59', 2, '2026-03-03 00:00:00')",
		"SELECT count(), any(memberIdentityKey), any(`region\\`x`) IS NULL FROM salesnav.activity_final",
		"SELECT name, type FROM system.columns WHERE database = 'salesnav' AND table = 'activity' AND name IN ('activityType', 'createdAt') ORDER BY name",
	)
	res := testkit.ChDB(t, stmts...)
	for i, r := range res {
		if !r.OK {
			t.Errorf("statement failed on current ClickHouse: %s\n%s", r.Error, stmts[i])
		}
	}
	n := len(res)
	if got := strings.TrimSpace(res[n-2].Out); got != "1\tm\t1" {
		t.Errorf("FINAL through the view: %q, want one row, the newer version", got)
	}
	if got := strings.TrimSpace(res[n-1].Out); got != "activityType\tLowCardinality(String)\ncreatedAt\tDateTime('UTC')" {
		t.Errorf("types on current ClickHouse: %q", got)
	}
}
