package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
)

// Group is what a Pushgateway holds under one grouping key.
type Group struct {
	// Labels is the grouping key, job included.
	Labels map[string]string
	// Metrics are the group's metric families by name, the gateway's own
	// push_time_seconds and push_failure_time_seconds included.
	Metrics map[string][]Sample
}

// Sample is one series of a family as the gateway serves it.
type Sample struct {
	// Labels are the series' labels, the grouping key's included.
	Labels map[string]string
	// Value is a counter's, gauge's or untyped value, or a histogram's
	// or summary's count.
	Value float64
	// Sum is a histogram's or summary's sum.
	Sum float64
}

// Groups reads every group the gateway holds (GET /api/v1/metrics).
func (p *Pushgateway) Groups(ctx context.Context) ([]Group, error) {
	raw, err := p.API(ctx)
	if err != nil {
		return nil, err
	}
	return ParseGroups(raw)
}

// API returns the gateway's answer to GET /api/v1/metrics: every group
// it holds, as JSON.
func (p *Pushgateway) API(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("reading the Pushgateway's groups: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the Pushgateway's groups: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the Pushgateway's groups: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading the Pushgateway's groups: %s: %s", resp.Status, raw)
	}
	return raw, nil
}

// apiFamily is a metric family in the gateway's API answer.
type apiFamily struct {
	Metrics []struct {
		Labels map[string]string `json:"labels"`
		Value  *string           `json:"value"`
		Count  *string           `json:"count"`
		Sum    *string           `json:"sum"`
	} `json:"metrics"`
}

// ParseGroups decodes the answer of the Pushgateway's GET /api/v1/metrics:
// {"status":"success","data":[{"labels":{…},"last_push_successful":…,
// "<family>":{"type":…,"metrics":[{"labels":{…},"value":"1"}]},…}]}, where a
// histogram's or summary's series has "count" and "sum" instead of
// "value".
func ParseGroups(raw []byte) ([]Group, error) {
	var answer struct {
		Status string                       `json:"status"`
		Data   []map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, fmt.Errorf("decoding the Pushgateway's groups: %w", err)
	}
	if answer.Status != "success" {
		return nil, fmt.Errorf("decoding the Pushgateway's groups: status %q", answer.Status)
	}
	groups := make([]Group, 0, len(answer.Data))
	for _, item := range answer.Data {
		g := Group{Metrics: map[string][]Sample{}}
		if err := json.Unmarshal(item["labels"], &g.Labels); err != nil {
			return nil, fmt.Errorf("decoding a group's labels: %w", err)
		}
		for name, rawFam := range item {
			if name == "labels" || name == "last_push_successful" {
				continue
			}
			var fam apiFamily
			if err := json.Unmarshal(rawFam, &fam); err != nil {
				return nil, fmt.Errorf("decoding family %s: %w", name, err)
			}
			for _, m := range fam.Metrics {
				s := Sample{Labels: m.Labels}
				var err error
				switch {
				case m.Value != nil:
					s.Value, err = strconv.ParseFloat(*m.Value, 64)
				case m.Count != nil && m.Sum != nil:
					s.Value, err = strconv.ParseFloat(*m.Count, 64)
					if err == nil {
						s.Sum, err = strconv.ParseFloat(*m.Sum, 64)
					}
				default:
					err = ErrNoValue
				}
				if err != nil {
					return nil, fmt.Errorf("decoding a series of %s: %w", name, err)
				}
				g.Metrics[name] = append(g.Metrics[name], s)
			}
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// GroupWith returns the group whose grouping key is exactly labels.
func GroupWith(groups []Group, labels map[string]string) (Group, bool) {
	for _, g := range groups {
		if maps.Equal(g.Labels, labels) {
			return g, true
		}
	}
	return Group{}, false
}

// Value returns the value of the group's series of family name whose
// labels include the pairs given (label, value, label, value…).
func (g Group) Value(name string, pairs ...string) (float64, bool) {
	for _, s := range g.Metrics[name] {
		match := true
		for i := 0; i+1 < len(pairs); i += 2 {
			if v, ok := s.Labels[pairs[i]]; !ok || v != pairs[i+1] {
				match = false
			}
		}
		if match {
			return s.Value, true
		}
	}
	return 0, false
}

// Keys returns the groups' grouping keys, for messages.
func Keys(groups []Group) []map[string]string {
	out := make([]map[string]string, 0, len(groups))
	for _, g := range groups {
		out = append(out, g.Labels)
	}
	return out
}
