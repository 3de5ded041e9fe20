package promtest

import (
	"slices"
	"strings"
	"testing"
)

func TestConcrete(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`rate(x{stream=~"$stream"}[$__rate_interval])`, `rate(x{stream=~".*"}[5m])`},
		{`increase(x{i=~"${instance}"}[${__range}])`, `increase(x{i=~".*"}[5m])`},
		{`x{i=~"${instance:regex}", m="[[mode]]"} offset $__interval`, `x{i=~".*", m=".*"} offset 5m`},
		{`x / $__range_s + $__interval_ms - $__range_ms`, `x / 300 + 300000 - 300000`},
		{`label_replace(x, "d", "$1", "s", "(.*)")`, `label_replace(x, "d", "$1", "s", "(.*)")`},
		{`no_variables_here`, `no_variables_here`},
	} {
		if got := Concrete(tc.in); got != tc.want {
			t.Errorf("Concrete(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestVariables(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`rate(x{s=~"$stream", i=~"${instance:regex}"}[$__rate_interval]) + y{s=~"[[stream]]"}`, []string{"stream", "instance", "__rate_interval"}},
		{`label_replace(x, "d", "$1", "s", "(.*)")`, nil},
	} {
		if got := Variables(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Variables(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

const dashboardJSON = `{
  "uid": "u", "title": "T", "schemaVersion": 39,
  "panels": [
    {"id": 1, "type": "stat", "title": "Exit", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4},
     "targets": [{"refId": "A", "expr": "e{m=\"$mode\"}"}, {"refId": "B", "expr": "f"}]},
    {"id": 2, "type": "row", "title": "Collapsed", "collapsed": true, "gridPos": {"x": 0, "y": 4, "w": 24, "h": 1},
     "panels": [{"id": 3, "type": "timeseries", "title": "Inner", "gridPos": {"x": 0, "y": 5, "w": 12, "h": 8}, "targets": [{"refId": "A", "expr": "g"}]}]}
  ],
  "templating": {"list": [
    {"name": "datasource", "type": "datasource", "query": "prometheus"},
    {"name": "instance", "type": "query", "query": "label_values(e, instance)"},
    {"name": "stream", "type": "query", "query": {"query": "label_values(rows_total{job=\"j\"}, stream)", "refId": "V"}},
    {"name": "top", "type": "query", "query": "query_result(topk(3, h))"},
    {"name": "mode", "type": "custom", "query": "scheduled,backfill"}
  ]}
}`

func TestDashboardQueries(t *testing.T) {
	d, err := ParseDashboard([]byte(dashboardJSON))
	if err != nil {
		t.Fatal(err)
	}
	if d.UID != "u" || d.SchemaVersion != 39 || len(d.AllPanels()) != 3 || d.AllPanels()[2].GridPos.W != 12 {
		t.Errorf("dashboard %+v, panels %+v", d, d.AllPanels())
	}
	qs, err := d.Queries()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range qs {
		got = append(got, q.Where+": "+q.Expr)
	}
	want := []string{`panel "Exit" target A: e{m="$mode"}`, `panel "Exit" target B: f`, `panel "Inner" target A: g`,
		`variable instance: e`, `variable stream: rows_total{job="j"}`, `variable top: topk(3, h)`}
	if !slices.Equal(got, want) {
		t.Errorf("queries\n%q\nwant\n%q", got, want)
	}
	bad := strings.Replace(dashboardJSON, `query_result(topk(3, h))`, `metrics(salesnav_.*)`, 1)
	d, _ = ParseDashboard([]byte(bad))
	if _, err := d.Queries(); err == nil || !strings.Contains(err.Error(), "variable top") {
		t.Errorf("a query variable the check cannot read: %v", err)
	}
	if _, err := ParseDashboard([]byte(`{"panels": 3}`)); err == nil {
		t.Error("a dashboard whose panels are not a list decoded")
	}
}
