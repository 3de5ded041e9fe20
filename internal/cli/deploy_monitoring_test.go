package cli

// Issue: alerts and dashboards tested on the real thing. The Prometheus
// rules (deploy/prometheus) run under promtool's unit tests, and every
// expression of the rules and the Grafana dashboard (deploy/grafana) is
// checked by promtool and against the metric names the code exports.

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/internal/metrics"
	"github.com/salesnav-etl/salesnav-etl/internal/promtest"
)

const (
	rulesDir      = "../../deploy/prometheus"
	dashboardFile = "../../deploy/grafana/salesnav-etl.json"
)

// pendingMetrics are metric names the rules and the dashboard use that
// another branch exports, each with the reason it is allowed here.
// Merging that branch removes its entry (TestPendingMetricsNotExported
// fails once the code exports the name).
var pendingMetrics = map[string]string{}

// exportedNames is every series name the code exports (metrics.Names).
func exportedNames(t *testing.T) []string {
	t.Helper()
	names, err := metrics.Names()
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// unknownNames returns the metric names of the queries that the code
// does not export and no pendingMetrics entry allows, each with where it
// was found.
func unknownNames(exported []string, queries []promtest.Query) []string {
	var bad []string
	for _, q := range queries {
		for _, n := range promtest.MetricNames(q.Expr) {
			if _, pending := pendingMetrics[n]; !pending && !slices.Contains(exported, n) {
				bad = append(bad, fmt.Sprintf("%s: %s", q.Where, n))
			}
		}
	}
	return bad
}

// An allowed name the code now exports is an entry to remove.
func TestPendingMetricsNotExported(t *testing.T) {
	exported := exportedNames(t)
	for n, why := range pendingMetrics {
		if slices.Contains(exported, n) {
			t.Errorf("%s is exported now: remove its pendingMetrics entry (%s)", n, why)
		}
	}
}

// The check of names finds a name the code does not export, a typo
// included, and lets through the exported ones and the pending ones.
func TestUnknownNames(t *testing.T) {
	exported := exportedNames(t)
	got := unknownNames(exported, []promtest.Query{
		{Where: "a", Expr: `sum by (stream) (salesnav_etl_rows_loaded_total{mode="scheduled"}) / salesnav_etl_job_wait_seconds_count`},
		{Where: "b", Expr: `salesnav_etl_row_loaded_total + up`},
		{Where: "c", Expr: `salesnav_etl_refresh_token_expiry_timestamp_seconds - time()`},
	})
	want := []string{"b: salesnav_etl_row_loaded_total", "b: up"}
	if !slices.Equal(got, want) {
		t.Errorf("unknown names %q, want %q", got, want)
	}
}

// alertRules reads the alerting rules of alerts.yml: name to expression.
func alertRules(t *testing.T) map[string]string {
	t.Helper()
	rules := map[string]string{}
	for _, g := range toSlice(dig(t, readYAML(t, rulesDir+"/alerts.yml"), "groups")) {
		for _, r := range toSlice(dig(t, g, "rules")) {
			name, _ := dig(t, r, "alert").(string)
			expr, _ := dig(t, r, "expr").(string)
			if name == "" || expr == "" {
				t.Fatalf("alerts.yml: a rule without alert or expr: %v", r)
			}
			rules[name] = expr
		}
	}
	return rules
}

func toSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// Each alert fires in one case at least of alerts_test.yml and stays
// silent in another; the alerts use only metric names the code exports
// and alert on what the docs promise, the refresh token's expiry
// included; the rules load (promtool check rules) and pass their unit
// tests (promtool test rules alerts_test.yml).
func TestPrometheusAlertRules(t *testing.T) {
	rules := alertRules(t)
	fires, silent := alertCases(t)
	for name := range rules {
		if fires[name] == 0 || silent[name] == 0 {
			t.Errorf("alert %s: %d cases where it fires and %d where it is silent in alerts_test.yml, want one of each at least", name, fires[name], silent[name])
		}
	}
	for name := range fires {
		if _, ok := rules[name]; !ok {
			t.Errorf("alerts_test.yml tests %s, which alerts.yml lacks", name)
		}
	}
	var queries []promtest.Query
	for name, expr := range rules {
		queries = append(queries, promtest.Query{Where: "alert " + name, Expr: expr})
	}
	if bad := unknownNames(exportedNames(t), queries); len(bad) > 0 {
		t.Errorf("metric names the code does not export: %q", bad)
	}
	for _, name := range []string{"salesnav_etl_last_success_timestamp_seconds", "salesnav_etl_exit_code", "salesnav_etl_run_end_timestamp_seconds",
		"salesnav_etl_rows_rejected_total", "salesnav_etl_api_calls_total", "salesnav_etl_refresh_token_expiry_timestamp_seconds"} {
		if !slices.ContainsFunc(queries, func(q promtest.Query) bool { return slices.Contains(promtest.MetricNames(q.Expr), name) }) {
			t.Errorf("no alert on %s", name)
		}
	}
	// promtool last: the checks above run in the fast tier too.
	if out, err := promtest.Promtool(t, rulesDir, "check", "rules", "alerts.yml"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := promtest.Promtool(t, rulesDir, "test", "rules", "alerts_test.yml"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// alertCases counts, per alert, the evaluations of alerts_test.yml that
// expect it to fire and those that expect silence.
func alertCases(t *testing.T) (fires, silent map[string]int) {
	t.Helper()
	fires, silent = map[string]int{}, map[string]int{}
	for _, tc := range toSlice(dig(t, readYAML(t, rulesDir+"/alerts_test.yml"), "tests")) {
		for _, e := range toSlice(dig(t, tc, "alert_rule_test")) {
			name, _ := dig(t, e, "alertname").(string)
			if len(toSlice(dig(t, e, "exp_alerts"))) > 0 {
				fires[name]++
			} else {
				silent[name]++
			}
		}
	}
	return fires, silent
}

// The dashboard is an importable Grafana dashboard whose every query
// promtool accepts (Grafana's variables made concrete), using only metric
// names the code exports, with the panels the issue lists.
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	d, err := promtest.ParseDashboard(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range dashboardProblems(d) {
		t.Error(p)
	}
	queries, err := d.Queries()
	if err != nil {
		t.Fatal(err)
	}
	if bad := unknownNames(exportedNames(t), queries); len(bad) > 0 {
		t.Errorf("metric names the code does not export: %q", bad)
	}
	// The panels: rows and rejects per stream, run duration and
	// exit code, API calls by status, job wait, last success age, token
	// expiry.
	for _, name := range []string{"salesnav_etl_rows_loaded_total", "salesnav_etl_rows_rejected_total", "salesnav_etl_run_duration_seconds",
		"salesnav_etl_exit_code", "salesnav_etl_api_calls_total", "salesnav_etl_job_wait_seconds_bucket",
		"salesnav_etl_last_success_timestamp_seconds", "salesnav_etl_refresh_token_expiry_timestamp_seconds"} {
		if !slices.ContainsFunc(queries, func(q promtest.Query) bool {
			return strings.HasPrefix(q.Where, "panel ") && slices.Contains(promtest.MetricNames(q.Expr), name)
		}) {
			t.Errorf("no panel shows %s", name)
		}
	}
	// promtool last: the checks above run in the fast tier too.
	exprs := make([]string, len(queries))
	for i, q := range queries {
		exprs[i] = promtest.Concrete(q.Expr)
	}
	if out, err := promtest.CheckExprs(t, exprs); err != nil {
		var list strings.Builder
		for i, q := range queries {
			fmt.Fprintf(&list, "checked:expr_%d is %s: %s\n", i, q.Where, exprs[i])
		}
		t.Errorf("promtool rejects a dashboard query: %v\n%s\n%s", err, out, list.String())
	}
}

// dashboardProblems checks what Grafana needs to import a dashboard and
// lay it out: a uid, title and schema version; panels with unique ids,
// on the 24-column grid without overlapping; every query panel on the
// data source variable, with queries; the variables the queries use.
func dashboardProblems(d *promtest.Dashboard) []string {
	var out []string
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 30 {
		out = append(out, fmt.Sprintf("uid %q, title %q, schemaVersion %d: want a uid, a title and a schema version of Grafana 9 or later", d.UID, d.Title, d.SchemaVersion))
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" {
		out = append(out, "no data source variable named datasource (the Prometheus to read, chosen on import)")
	}
	ids := map[int]bool{}
	var placed []promtest.Panel
	for _, p := range d.AllPanels() {
		g := p.GridPos
		if ids[p.ID] || p.ID == 0 {
			out = append(out, fmt.Sprintf("panel %q: id %d missing or repeated", p.Title, p.ID))
		}
		ids[p.ID] = true
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			out = append(out, fmt.Sprintf("panel %q: gridPos %+v off the 24-column grid", p.Title, g))
		}
		for _, q := range placed {
			o := q.GridPos
			if g.X < o.X+o.W && o.X < g.X+g.W && g.Y < o.Y+o.H && o.Y < g.Y+g.H {
				out = append(out, fmt.Sprintf("panels %q and %q overlap", q.Title, p.Title))
			}
		}
		placed = append(placed, p)
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || len(p.Targets) == 0 {
			out = append(out, fmt.Sprintf("panel %d %q: no title or no query", p.ID, p.Title))
		}
		sources := []*promtest.Datasource{p.Datasource}
		for _, tg := range p.Targets {
			sources = append(sources, tg.Datasource)
			for _, v := range promtest.Variables(tg.Expr) {
				if _, ok := vars[v]; !ok && !strings.HasPrefix(v, "__") {
					out = append(out, fmt.Sprintf("panel %q target %s: variable $%s is not defined", p.Title, tg.RefID, v))
				}
			}
		}
		for _, s := range sources {
			if s == nil || s.Type != "prometheus" || s.UID != "${datasource}" {
				out = append(out, fmt.Sprintf("panel %q: data source %+v, want prometheus ${datasource}", p.Title, s))
			}
		}
	}
	return out
}

// dashboardProblems finds each problem it checks.
func TestDashboardProblems(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"no schema version", `"schemaVersion": 39`, `"schemaVersion": 0`, "schemaVersion 0"},
		{"no data source variable", `"type": "datasource"`, `"type": "custom"`, "no data source variable"},
		{"repeated id", `"id": 2,`, `"id": 1,`, "id 1 missing or repeated"},
		{"off the grid", `"w": 6,`, `"w": 30,`, "off the 24-column grid"},
		{"overlap", `"y": 7`, `"y": 6`, "overlap"},
		{"undefined variable", `stream=~\"$stream\"`, `stream=~\"$streams\"`, "variable $streams is not defined"},
		{"fixed data source", `"uid": "${datasource}"`, `"uid": "P1809F7CD0C75ACF3"`, "want prometheus ${datasource}"},
	} {
		broken := strings.Replace(string(raw), tc.old, tc.new, 1)
		if broken == string(raw) {
			t.Fatalf("%s: %q is not in the dashboard", tc.name, tc.old)
		}
		d, err := promtest.ParseDashboard([]byte(broken))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(dashboardProblems(d), "\n"); !strings.Contains(got, tc.want) {
			t.Errorf("%s: problems %q, want one saying %q", tc.name, got, tc.want)
		}
	}
	d, _ := promtest.ParseDashboard(raw)
	if p := dashboardProblems(d); len(p) > 0 {
		t.Errorf("the dashboard: %q", p)
	}
}
