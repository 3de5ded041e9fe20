package promtest

import (
	"strings"
	"testing"
)

func TestRecordingRules(t *testing.T) {
	raw, err := RecordingRules("dash", []string{`a{b="c"} > 1`, "sum by (x) (y)"})
	if err != nil {
		t.Fatal(err)
	}
	want := `groups:
- name: dash
  rules:
  - expr: a{b="c"} > 1
    record: dash:expr_0
  - expr: sum by (x) (y)
    record: dash:expr_1
`
	if string(raw) != want {
		t.Errorf("rules:\n%s\nwant:\n%s", raw, want)
	}
}

// promtool accepts good expressions and names the bad one.
func TestCheckExprs(t *testing.T) {
	if out, err := CheckExprs(t, []string{`time() - a{b=~".*"} > 2 * 86400`, `histogram_quantile(0.9, sum by (le) (h_bucket))`}); err != nil {
		t.Errorf("good expressions: %v\n%s", err, out)
	}
	out, err := CheckExprs(t, []string{`a`, `sum by (le (h_bucket)`})
	if err == nil || !strings.Contains(out, "expr_1") {
		t.Errorf("a bad expression: %v\n%s", err, out)
	}
}
