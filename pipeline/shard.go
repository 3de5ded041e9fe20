package pipeline

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is this run's share of the contracts and CRM instances, when the
// work is spread over Count runs (Kubernetes Indexed Jobs, say): each key
// belongs to exactly one shard, by a stable hash of its URN, so every run
// of shard i takes the same contracts, and no two shards touch the same
// cursor or job. The zero Shard (or Count 1) takes everything.
//
// The contracts dimension and profile associations are not split: shard
// 0 loads them (associations then cover the CRM records every shard had
// loaded by then; the next run's shard 0 catches up the rest).
type Shard struct {
	Index, Count int
}

// ParseShard reads "i/n" (0 <= i < n).
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("%q is not i/n (the shard's index from 0, then the number of shards)", s)
	}
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("%q is not i/n (the shard's index from 0, then the number of shards)", s)
	}
	sh := Shard{Index: idx, Count: cnt}
	return sh, sh.Validate()
}

// Validate reports a shard that cannot be.
func (s Shard) Validate() error {
	if s.Count < 0 || s.Count > 1000 || s.Index < 0 || (s.Count > 0 && s.Index >= s.Count) || (s.Count == 0 && s.Index != 0) {
		return fmt.Errorf("shard %d of %d: the index runs from 0 to the number of shards minus one, and there are at most 1000", s.Index, s.Count)
	}
	return nil
}

// Sharded reports whether the work is split.
func (s Shard) Sharded() bool { return s.Count > 1 }

// Owns reports whether key (a contract or CRM instance URN) is this
// shard's: FNV-1a of the key, modulo Count.
func (s Shard) Owns(key string) bool {
	if !s.Sharded() {
		return true
	}
	return ShardOf(key, s.Count) == s.Index
}

// First reports whether this is shard 0 (or the work is not split): it
// loads the streams that are not split by contract.
func (s Shard) First() bool { return s.Index == 0 }

// String is "i/n", or "" when the work is not split.
func (s Shard) String() string {
	if !s.Sharded() {
		return ""
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// ShardOf is the shard, of n, that key belongs to.
func ShardOf(key string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % uint64(n))
}
