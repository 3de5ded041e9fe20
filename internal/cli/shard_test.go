package cli

// Issue 9, sharded runs: three shards at once, into one output, take every
// contract and CRM instance exactly once between them and load what one
// unsharded run loads.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/sethvargo/go-envconfig"
)

func TestShardConfig(t *testing.T) {
	resolve := func(env map[string]string) (*Config, error) {
		env["SALESNAV_ACCESS_TOKEN"], env["SALESNAV_PARQUET_DIR"] = "t", "/data"
		e, err := LoadEnv(context.Background(), envconfig.MapLookuper(env))
		if err != nil {
			return nil, err
		}
		return e.Resolve(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), true)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string // an error naming this, or "" for none
	}{
		{map[string]string{"SALESNAV_SHARD": "3/3"}, "SALESNAV_SHARD"},
		{map[string]string{"SALESNAV_SHARD": "x"}, "SALESNAV_SHARD"},
		{map[string]string{"SALESNAV_SHARD": "0/2", "SALESNAV_SHARDS": "2"}, "not both"},
		{map[string]string{"SALESNAV_SHARDS": "3"}, "JOB_COMPLETION_INDEX"},
		{map[string]string{"SALESNAV_SHARDS": "3", "JOB_COMPLETION_INDEX": "3"}, "JOB_COMPLETION_INDEX: \"3\" is not a shard index from 0 to 2"},
		{map[string]string{"SALESNAV_SHARDS": "0", "JOB_COMPLETION_INDEX": "0"}, "SALESNAV_SHARDS"},
		{map[string]string{"SALESNAV_SHARDS": "3", "JOB_COMPLETION_INDEX": "1"}, ""},
		{map[string]string{"SALESNAV_SHARD": "1/3"}, ""},
	} {
		cfg, err := resolve(tc.env)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: %v, want an error naming %s", tc.env, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.env, err)
			continue
		}
		if cfg.Pipeline.Shard != (pipeline.Shard{Index: 1, Count: 3}) || cfg.StatePath != "/data/_state.shard-1.json" || cfg.StatePeers != "/data/_state.json" {
			t.Errorf("%v: shard %+v, state %s (peers of %s)", tc.env, cfg.Pipeline.Shard, cfg.StatePath, cfg.StatePeers)
		}
	}
	// A state path naming a shard's file names the family; a sharded run
	// writes the file of its own index (never another shard's).
	for _, tc := range []struct{ path, shard, own, family string }{
		{"/s/_state.shard-0.json", "2/3", "/s/_state.shard-2.json", "/s/_state.json"},
		{"/s/_state.shard-0.json", "", "/s/_state.shard-0.json", "/s/_state.json"},
		{"/s/state.shard-1", "0/3", "/s/state.shard-0", "/s/state"},
		{"/s/state", "1/2", "/s/state.shard-1", "/s/state"},
	} {
		env := map[string]string{"SALESNAV_STATE_PATH": tc.path}
		if tc.shard != "" {
			env["SALESNAV_SHARD"] = tc.shard
		}
		cfg, err := resolve(env)
		if err != nil {
			t.Errorf("%s with shard %q: %v", tc.path, tc.shard, err)
			continue
		}
		if cfg.StatePath != tc.own || cfg.StatePeers != tc.family {
			t.Errorf("%s with shard %q: own %s, family %s (%v); want %s, %s", tc.path, tc.shard, cfg.StatePath, cfg.StatePeers, err, tc.own, tc.family)
		}
	}
}
