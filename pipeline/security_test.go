package pipeline_test

// Issue 7, security: names that come from the API (contract URNs, CRM
// instance keys, CSV headers) can neither leave the Parquet directory nor
// break out of ClickHouse's quoting.

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// hostile holds path and quoting tricks: "..", separators, quotes,
// backticks, a backslash, NUL and a statement.
const hostile = "../../..//etc\\'\"`\x00; DROP TABLE activity --"

func TestHostileNamesStayInside(t *testing.T) {
	contract := "urn:li:salesContract:" + hostile
	instance := "urn:li:crmInstance:(" + strings.ReplaceAll(hostile, ",", "") + ",x)"
	// Drift columns named to escape: kept as strings in both sinks.
	header := []string{"../../evil", `d"q`, "s';DROP TABLE activity --"}
	mangle := withColumns(header...)
	// Parquet takes any column name, NUL and backticks too.
	pqHeader := append(slices.Clone(header), "n\x00ul", "b`ack")
	// A fixed clock: CRM exports run from the start to "now", a few days.
	now := func() time.Time { return d5.Add(12 * time.Hour) }
	all := func(c *pipeline.Config) {
		c.Streams = schema.All()
		c.CRMInstances = []string{instance}
		c.Now = now
	}
	forBoth(t, func(t *testing.T, k sinkKind) {
		fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 20, Now: now, URLTTL: 100 * 365 * 24 * time.Hour, Contracts: []fakeapi.Contract{{URN: contract, Name: hostile, HasReportingAccess: true}}})
		fake.Mangle = mangle
		if k.name == "parquet" {
			fake.Mangle = withColumns(pqHeader...)
		}
		parent := t.TempDir()
		var target *testkit.Target
		if k.name == "parquet" {
			target = testkit.ParquetTargetAt(t, filepath.Join(parent, "out"))
		} else {
			target = k.make(t)
		}
		api := testkit.API(t, fake.URL)
		sum, err := testkit.RunWith(t, api, target.Sink, target.State, filepath.Join(parent, "rejects"), nil, d0, d5, all)
		if err != nil || sum.Status != pipeline.StatusComplete {
			t.Fatalf("run: %v, status %s, errors %+v", err, sum.Status, sum.Errors)
		}
		// The hostile names are data, stored as they came.
		for _, st := range []string{"activity", "crm_validation", "contracts"} {
			rows := target.Rows(t, st)
			if len(rows) == 0 {
				t.Errorf("%s: nothing loaded", st)
			}
		}
		if c, ok, _ := target.State.Cursor(context.Background(), "activity", contract); !ok || !c.Equal(d5) {
			t.Errorf("cursor of the hostile contract: %v %v", c, ok)
		}
		if k.name == "parquet" {
			// Everything written is below out/ or rejects/, in plain names.
			filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
				rel, _ := filepath.Rel(parent, p)
				if rel == "." {
					return nil
				}
				top := strings.Split(filepath.ToSlash(rel), "/")[0]
				if top != "out" && top != "rejects" || strings.ContainsAny(rel, "\x00'\"`\\;") || slices.Contains(strings.Split(rel, "/"), "..") {
					t.Errorf("written outside, or under a hostile name: %q", rel)
				}
				// Restrictive permissions: nothing for others.
				if info, err := d.Info(); err != nil {
					t.Error(err)
				} else if info.Mode().Perm()&0o007 != 0 {
					t.Errorf("%s: mode %v, want no permission for others", rel, info.Mode())
				}
				return nil
			})
			rows := target.Rows(t, "activity")
			for _, h := range pqHeader {
				if !strings.Contains(rows[0], jsonKey(h)) {
					t.Errorf("drift column %q not kept: %s", h, rows[0])
				}
			}
			return
		}
		// ClickHouse: the tables are the connector's own, the drift
		// columns are there under their own names, and activity is whole.
		sink := target.Sink.(*chsink.Sink)
		rows, err := sink.Conn().Query(context.Background(), "SELECT name FROM system.columns WHERE database = ? AND table = 'activity'", sink.Database())
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			cols = append(cols, n)
		}
		rows.Close()
		for _, h := range header {
			if !slices.Contains(cols, h) {
				t.Errorf("column %q missing from activity: %q", h, cols)
			}
		}
		if n := len(target.Rows(t, "activity")); n != len(fake.ActivityIDs([]string{contract}, d0, d5)) {
			t.Errorf("%d activity rows, want %d", n, len(fake.ActivityIDs([]string{contract}, d0, d5)))
		}
	})
}

func jsonKey(s string) string {
	b, _ := json.Marshal(s)
	return string(b) + ":"
}

// A drift column ClickHouse cannot take (NUL; a backtick or backslash,
// which clickhouse-go's column parser mistakes) fails its window with an error naming it, and
// loads nothing of it; Parquet keeps it.
func TestUnusableColumnNameNamed(t *testing.T) {
	k := kinds()[1]
	for _, name := range []string{"n\x00ul", "b`ack", `back\slash`} {
		t.Run(strconv.Quote(name), func(t *testing.T) {
			r := newRig(t, k, fakeapi.Config{RowsPerDay: 20})
			r.fake.Mangle = withColumns(name)
			sum, _ := r.run(d0, d5)
			if sum.Status != pipeline.StatusPartial || len(sum.Errors) == 0 || !strings.Contains(sum.Errors[0].Error, chsink.ErrBadIdentifier.Error()) ||
				!strings.Contains(sum.Errors[0].Error, strconv.Quote(name)) {
				t.Fatalf("status %s, errors %+v", sum.Status, sum.Errors)
			}
			sink := r.target.Sink.(*chsink.Sink)
			var stages uint64
			if err := sink.Conn().QueryRow(context.Background(), "SELECT count() FROM system.tables WHERE database = ? AND startsWith(name, '_stage_')", sink.Database()).Scan(&stages); err != nil || stages != 0 {
				t.Errorf("%d staging tables left (%v)", stages, err)
			}
			if n := len(r.target.Rows(t, "activity")); n != 0 {
				t.Errorf("%d activity rows from windows that failed", n)
			}
			if n := len(r.target.Rows(t, "seat")); n == 0 {
				t.Error("other streams must load")
			}
		})
	}
}

// withColumns rewrites activity files with extra columns named names,
// each row holding "v" in them.
func withColumns(names ...string) func([]byte) []byte {
	return func(b []byte) []byte {
		if !testkit.IsActivityFile(b) {
			return b
		}
		lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
		for i := range lines {
			for _, h := range names {
				if i == 0 {
					lines[i] = append(lines[i], []byte(`,"`+strings.ReplaceAll(h, `"`, `""`)+`"`)...)
				} else {
					lines[i] = append(lines[i], ",v"...)
				}
			}
		}
		return append(bytes.Join(lines, []byte("\n")), '\n')
	}
}
