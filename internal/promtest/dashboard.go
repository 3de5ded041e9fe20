package promtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Dashboard is what the tests read of a Grafana dashboard's JSON model.
type Dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []Panel `json:"panels"`
	Templating    struct {
		List []Variable `json:"list"`
	} `json:"templating"`
}

// Panel is a dashboard panel; a row holds its panels when collapsed.
type Panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	GridPos    GridPos     `json:"gridPos"`
	Datasource *Datasource `json:"datasource"`
	Targets    []Target    `json:"targets"`
	Panels     []Panel     `json:"panels"`
}

// GridPos is a panel's place on the 24-column grid.
type GridPos struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// Datasource is a panel's, target's or variable's data source.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Target is a panel's query.
type Target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *Datasource `json:"datasource"`
}

// Variable is a template variable. Query is a string, or for a query
// variable of a recent Grafana an object with the query under "query".
type Variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *Datasource     `json:"datasource"`
}

// Query is a PromQL query of a dashboard.
type Query struct {
	// Where names it: `panel "<title>" target <refId>` or `variable <name>`.
	Where string
	// Expr is the PromQL as written, Grafana variables included.
	Expr string
}

// ParseDashboard decodes a Grafana dashboard's JSON model.
func ParseDashboard(raw []byte) (*Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("decoding the dashboard: %w", err)
	}
	return &d, nil
}

// AllPanels returns every panel, a collapsed row's panels after the row.
func (d *Dashboard) AllPanels() []Panel {
	var out []Panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

var (
	// labelValues is label_values(<selector>, <label>) (a metric's
	// selector: there is no PromQL in label_values(<label>)).
	labelValues = regexp.MustCompile(`^\s*label_values\(\s*(.+),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$`)
	// queryResult is query_result(<expr>).
	queryResult = regexp.MustCompile(`^\s*query_result\((.+)\)\s*$`)
)

// Queries returns the dashboard's PromQL: every panel target's expr, and
// the selector or expression of each query variable's label_values(…, …)
// or query_result(…). A query variable of another form is an error (the
// check would not see it).
func (d *Dashboard) Queries() ([]Query, error) {
	var out []Query
	for _, p := range d.AllPanels() {
		for _, t := range p.Targets {
			out = append(out, Query{Where: fmt.Sprintf("panel %q target %s", p.Title, t.RefID), Expr: t.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, err := v.query()
		if err != nil {
			return nil, err
		}
		if m := labelValues.FindStringSubmatch(q); m != nil {
			out = append(out, Query{Where: "variable " + v.Name, Expr: m[1]})
		} else if m := queryResult.FindStringSubmatch(q); m != nil {
			out = append(out, Query{Where: "variable " + v.Name, Expr: m[1]})
		} else {
			return nil, fmt.Errorf("variable %s: query %q is neither label_values(<selector>, <label>) nor query_result(<expr>)", v.Name, q)
		}
	}
	return out, nil
}

// query returns a variable's query text.
func (v Variable) query() (string, error) {
	var s string
	if err := json.Unmarshal(v.Query, &s); err == nil {
		return s, nil
	}
	var o struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(v.Query, &o); err != nil {
		return "", fmt.Errorf("variable %s: decoding its query: %w", v.Name, err)
	}
	return o.Query, nil
}

// variable is a Grafana variable in a query: $name, ${name}, ${name:fmt},
// [[name]] or [[name:fmt]].
var variable = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z_][A-Za-z0-9_]*)(?::[^\]]*)?\]\]`)

// Variables returns the names of the Grafana variables a query uses, in
// order, without repeats ($__range gives __range).
func Variables(expr string) []string {
	var out []string
	for _, m := range variable.FindAllStringSubmatch(expr, -1) {
		name := m[1] + m[2] + m[3]
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// builtins are the values Concrete gives Grafana's global variables.
var builtins = map[string]string{
	"__interval": "5m", "__rate_interval": "5m", "__range": "5m",
	"__interval_ms": "300000", "__range_ms": "300000", "__range_s": "300",
}

// Concrete replaces the Grafana variables of a query with values, so that
// promtool can check it: $__interval, $__rate_interval and $__range with
// 5m (their _ms and _s forms with numbers), and any other variable (the
// dashboard's own: $stream, $instance…) with .*, the value of "All".
func Concrete(expr string) string {
	return variable.ReplaceAllStringFunc(expr, func(m string) string {
		name := strings.Trim(m, "${}[]")
		name, _, _ = strings.Cut(name, ":")
		if v, ok := builtins[name]; ok {
			return v
		}
		return ".*"
	})
}
