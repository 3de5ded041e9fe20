package promtest

import (
	"fmt"

	"sigs.k8s.io/yaml"
)

// RecordingRules builds a Prometheus rule file of one group, name, with a
// recording rule per expression, recorded as name:expr_<index>.
func RecordingRules(name string, exprs []string) ([]byte, error) {
	type rule struct {
		Record string `json:"record"`
		Expr   string `json:"expr"`
	}
	type group struct {
		Name  string `json:"name"`
		Rules []rule `json:"rules"`
	}
	g := group{Name: name}
	for i, e := range exprs {
		g.Rules = append(g.Rules, rule{Record: fmt.Sprintf("%s:expr_%d", name, i), Expr: e})
	}
	raw, err := yaml.Marshal(map[string][]group{"groups": {g}})
	if err != nil {
		return nil, fmt.Errorf("building recording rules: %w", err)
	}
	return raw, nil
}
