package lineage

import (
	"errors"
	"testing"
)

func TestParseParent(t *testing.T) {
	const id = "0190f0f4-6d6a-7c3a-9a53-6c1c2f0e5b11"
	for _, tc := range []struct {
		in   string
		want Parent
		bad  bool
	}{
		{in: "default/salesnav_etl.load/" + id, want: Parent{"default", "salesnav_etl.load", id}},
		// Airflow's namespace is free text and may hold "/"; its job names
		// never do.
		{in: "airflow://prod/salesnav_etl.load/" + id, want: Parent{"airflow://prod", "salesnav_etl.load", id}},
		{in: "default/salesnav_etl.load/0190F0F4-6D6A-7C3A-9A53-6C1C2F0E5B11", want: Parent{"default", "salesnav_etl.load", id}},
		{in: "", bad: true},
		{in: "default/" + id, bad: true},
		{in: "/salesnav_etl.load/" + id, bad: true},
		{in: "default//" + id, bad: true},
		{in: "default/salesnav_etl.load/", bad: true},
		{in: "default/salesnav_etl.load/manual__2026-02-11T03:30:00+00:00", bad: true},
		{in: "default/salesnav_etl.load/{" + id + "}", bad: true},
		{in: "default/salesnav_etl.load/urn:uuid:" + id, bad: true},
		{in: "default/salesnav_etl.load/" + id + "/", bad: true},
	} {
		got, err := ParseParent(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrBadParent) {
				t.Errorf("%q: %+v %v, want ErrBadParent", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.in, got, err, tc.want)
		}
	}
}
