package chsink_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/load/chsink"
)

func TestParseVersion(t *testing.T) {
	for _, c := range []struct {
		in   string
		want chsink.Version
		bad  bool
	}{
		{in: "18.16.1", want: chsink.Version{Major: 18, Minor: 16, Patch: 1}},
		{in: "26.7.2.1", want: chsink.Version{Major: 26, Minor: 7, Patch: 2}},
		{in: "24.8", want: chsink.Version{Major: 24, Minor: 8}},
		{in: " 19.3.0 ", want: chsink.Version{Major: 19, Minor: 3}},
		{in: "26", bad: true},
		{in: "", bad: true},
		{in: "v26.7", bad: true},
		{in: "26.x.1", bad: true},
	} {
		got, err := chsink.ParseVersion(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.bad)
		}
	}
}

// TestSettingsFor: the LowCardinality switch only below 19.3, the ON
// CLUSTER timeout only on a cluster, nothing else; moves always
// synchronous under the one name every version knows.
func TestSettingsFor(t *testing.T) {
	const lc, ddl = "allow_experimental_low_cardinality_type", "distributed_ddl_task_timeout"
	for _, c := range []struct {
		version string
		cluster bool
		want    []string
	}{
		{"18.16.1", false, []string{lc}},
		{"18.16.1", true, []string{lc, ddl}},
		{"19.1.6", false, []string{lc}},
		{"19.3.0", false, nil},
		{"19.3.0", true, []string{ddl}},
		{"20.3.1", false, nil},
		{"24.8.4", false, nil},
		{"24.8.4", true, []string{ddl}},
		{"25.3.1", false, nil},
		{"26.7.2.1", false, nil},
		{"26.7.2.1", true, []string{ddl}},
	} {
		v, err := chsink.ParseVersion(c.version)
		if err != nil {
			t.Fatal(err)
		}
		s := chsink.SettingsFor(v, c.cluster)
		if got := slices.Sorted(maps.Keys(s)); !slices.Equal(got, c.want) {
			t.Errorf("%s cluster=%v: %v, want %v", c.version, c.cluster, got, c.want)
		}
		if c.cluster && s[ddl] != 30 {
			t.Errorf("%s: %s = %v, want 30", c.version, ddl, s[ddl])
		}
		if slices.Contains(c.want, lc) && s[lc] != 1 {
			t.Errorf("%s: %s = %v, want 1", c.version, lc, s[lc])
		}
	}
	if m := chsink.MoveSettings(); len(m) != 1 || m["insert_distributed_sync"] != 1 {
		t.Errorf("move settings %v", m)
	}
	// REPLACE PARTITION from an empty stage: allowed explicitly from 26.6,
	// where it became an error; unknown before.
	for v, want := range map[string]bool{"18.16.1": false, "24.8.4": false, "26.5.1": false, "26.6.1": true, "26.7.2.1": true, "27.1": true} {
		ver, _ := chsink.ParseVersion(v)
		s := chsink.ReplaceSettings(ver)
		if got := s["allow_replace_partition_from_empty_source"] == 1; got != want || len(s) > 1 || (!want && len(s) != 0) {
			t.Errorf("%s: replace settings %v", v, s)
		}
	}
}
