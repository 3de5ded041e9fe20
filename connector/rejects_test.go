package connector

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/transform"
)

func TestCountRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(rel string, rs ...transform.Reject) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, r := range rs {
			json.NewEncoder(f).Encode(r)
		}
	}
	secret := "Personal Name"
	write("activity/contract=1/2026-02-01_2026-02-04.jsonl",
		transform.Reject{Stream: "activity", Column: "seatId", Value: "x", Reason: "not an integer"},
		transform.Reject{Stream: "activity", Column: "seatId", Value: "y", Reason: "not an integer"})
	write("activity/contract=2/2026-02-01_2026-02-04.jsonl",
		transform.Reject{Stream: "activity", Reason: "row has 3 fields, header has 5", Record: []string{secret}})
	write("seat/contract=1/x.jsonl", transform.Reject{Stream: "seat", Column: "totalConnections", Value: secret, Reason: "not an integer"})
	counts, err := CountRejects(dir)
	if err != nil {
		t.Fatal(err)
	}
	line, n := RejectSummary("activity", counts)
	if want := "activity: 3 row(s) rejected, never sent as records: 2 seatId (not an integer), 1 row (row has 3 fields, header has 5)"; line != want || n != 3 {
		t.Errorf("%q %d\nwant %q", line, n, want)
	}
	line, n = RejectSummary("seat", counts)
	if n != 1 || line == "" {
		t.Errorf("seat: %q %d", line, n)
	}
	for _, c := range counts {
		if c.Column == secret || c.Reason == secret {
			t.Error("a rejected value is in the counts")
		}
	}
	if line, n := RejectSummary("contracts", counts); line != "" || n != 0 {
		t.Errorf("a stream without rejects: %q", line)
	}
	if counts, err := CountRejects(filepath.Join(dir, "none")); err != nil || len(counts) != 0 {
		t.Errorf("a missing directory: %v %v", counts, err)
	}
}
