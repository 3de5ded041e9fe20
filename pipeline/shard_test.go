package pipeline_test

import (
	"fmt"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want pipeline.Shard
		ok   bool
	}{
		{"0/3", pipeline.Shard{Index: 0, Count: 3}, true},
		{"2/3", pipeline.Shard{Index: 2, Count: 3}, true},
		{" 1 / 2 ", pipeline.Shard{Index: 1, Count: 2}, true},
		{"0/1", pipeline.Shard{Index: 0, Count: 1}, true},
		{"3/3", pipeline.Shard{}, false},
		{"-1/3", pipeline.Shard{}, false},
		{"1/0", pipeline.Shard{}, false},
		{"1", pipeline.Shard{}, false},
		{"a/b", pipeline.Shard{}, false},
		{"0/1001", pipeline.Shard{}, false},
	} {
		got, err := pipeline.ParseShard(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseShard(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

// Every key belongs to exactly one shard, the same one every time (the
// hash is fixed: these values must never change, or contracts would move
// between shards on upgrade), and keys spread over the shards.
func TestShardOwnership(t *testing.T) {
	golden := map[string]int{"urn:li:salesContract:1001": 1, "urn:li:salesContract:1002": 2, "urn:li:crmInstance:(SFDC,00D1)": 0}
	for key, want := range golden {
		if got := pipeline.ShardOf(key, 3); got != want {
			t.Errorf("ShardOf(%q, 3) = %d, want %d", key, got, want)
		}
	}
	per := make([]int, 3)
	for i := range 300 {
		key := fmt.Sprintf("urn:li:salesContract:%d", 1000+i)
		owners := 0
		for s := range 3 {
			if (pipeline.Shard{Index: s, Count: 3}).Owns(key) {
				owners++
				per[s]++
			}
		}
		if owners != 1 {
			t.Fatalf("%s has %d owners", key, owners)
		}
	}
	for s, n := range per {
		if n < 70 {
			t.Errorf("shard %d owns %d of 300 keys: %v", s, n, per)
		}
	}
	if !(pipeline.Shard{}).Owns("x") || !(pipeline.Shard{}).First() {
		t.Error("the zero shard takes everything")
	}
}
