package schema

import (
	"hash/fnv"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
)

// HasRowHash reports whether the stream's key holds RowHash: its rows are
// told apart by a hash, not by documented columns.
func (s *Stream) HasRowHash() bool { return slices.Contains(s.Key, RowHash) }

// HashColumns finds, in sc (a batch schema of the stream), the columns
// RowHashes covers: data, every column that is not lineage; identity, the
// stream's Identity columns in declared order when sc has them all, else
// none.
func (s *Stream) HashColumns(sc *arrow.Schema) (identity, data []int) {
	found := map[string]int{}
	for i, f := range sc.Fields() {
		if !IsLineage(f.Name) {
			data = append(data, i)
		}
		if slices.Contains(s.Identity, f.Name) {
			found[f.Name] = i
		}
	}
	if len(s.Identity) > 0 && len(found) == len(s.Identity) {
		for _, n := range s.Identity {
			identity = append(identity, found[n])
		}
	}
	return identity, data
}

// RowHashes hashes each row of rec into the value of its RowHash column
// (FNV-64a of the text forms of its columns, each followed by a
// separator, a null written as one zero byte): its identity columns when
// the row has them all (the hash then starts with "id" and a separator),
// else all its data columns. Every sink computes RowHash with it, so the
// same row has the same hash in ClickHouse and in the protocol outputs.
func RowHashes(rec arrow.RecordBatch, identity, data []int) []uint64 {
	n := int(rec.NumRows())
	out := make([]uint64, n)
	h := fnv.New64a()
	for r := range n {
		h.Reset()
		cols := data
		if len(identity) > 0 && !slices.ContainsFunc(identity, func(c int) bool { return rec.Column(c).IsNull(r) }) {
			cols = identity
			h.Write([]byte("id\x1f"))
		}
		for _, c := range cols {
			a := rec.Column(c)
			if a.IsNull(r) {
				h.Write([]byte{0})
			} else {
				h.Write([]byte(a.ValueStr(r)))
			}
			h.Write([]byte{0x1f})
		}
		out[r] = h.Sum64()
	}
	return out
}
