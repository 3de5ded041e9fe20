package cli

import (
	"regexp"
	"strconv"

	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// shard resolves SALESNAV_SHARD ("i/n"), or SALESNAV_SHARDS with
// Kubernetes' JOB_COMPLETION_INDEX; neither: the zero Shard (all).
func (e *Env) shard(bad func(ptr *string, format string, args ...any)) pipeline.Shard {
	switch {
	case e.Shard != "" && e.Shards != "":
		bad(&e.Shard, "set it or %s (with JOB_COMPLETION_INDEX), not both", e.names[&e.Shards])
	case e.Shard != "":
		sh, err := pipeline.ParseShard(e.Shard)
		if err != nil {
			bad(&e.Shard, "%v", err)
		}
		return sh
	case e.Shards != "":
		n, err := strconv.Atoi(e.Shards)
		if err != nil || n < 1 || n > 1000 {
			bad(&e.Shards, "%q is not a number of shards from 1 to 1000", e.Shards)
			return pipeline.Shard{}
		}
		if e.jobIndex == "" {
			bad(&e.Shards, "needs JOB_COMPLETION_INDEX, which Kubernetes sets in the pods of an Indexed Job; elsewhere set SALESNAV_SHARD=i/n")
			return pipeline.Shard{}
		}
		i, err := strconv.Atoi(e.jobIndex)
		if err != nil || i < 0 || i >= n {
			bad(&e.jobIndex, "%q is not a shard index from 0 to %d (SALESNAV_SHARDS=%d)", e.jobIndex, n-1, n)
			return pipeline.Shard{}
		}
		return pipeline.Shard{Index: i, Count: n}
	}
	return pipeline.Shard{}
}

// shardFile matches a shard's state file (out/_state.shard-2.json, or
// out/state.shard-2 without an extension): the stem, index and extension.
var shardFile = regexp.MustCompile(`^(.*)\.shard-([0-9]+)((?:\.[^./\\]*)?)$`)
