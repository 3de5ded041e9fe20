package parquet

import (
	"encoding/base64"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/salesnav-etl/salesnav-etl/transform"
)

// arrowSchemaKey is the file metadata key under which pqarrow stores the
// Arrow schema (WithStoreSchema), and from which Arrow readers take their
// column types.
const arrowSchemaKey = "ARROW:schema"

// fileSchema is the schema and Arrow properties a window's files are
// written with, for batches of schema s.
//
// Batches may carry dictionary columns (transform.WithDictionaries): an
// enum or a lineage column, whose dictionary pqarrow writes as the
// column's Parquet dictionary and whose indices it writes as they are,
// where a plain column would have each value hashed into a dictionary.
// The file is the same either way but for the Arrow schema it stores: for
// dictionary columns that would be dictionary types, which Arrow readers
// (pyarrow, pandas) would then return as dictionaries and categoricals.
// So the stored schema is the dense one (transform.Dense), the schema the
// same rows have without dictionaries: the files read back exactly as
// before.
func fileSchema(s *arrow.Schema, mem memory.Allocator) (*arrow.Schema, pqarrow.ArrowWriterProperties) {
	dense := transform.Dense(s)
	if dense == s {
		return s, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem))
	}
	md := s.Metadata()
	// Copies: appending to the schema's own slices could write into them.
	keys := append(slices.Clone(md.Keys()), arrowSchemaKey)
	vals := append(slices.Clone(md.Values()), base64.StdEncoding.EncodeToString(flight.SerializeSchema(dense, mem)))
	meta := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(s.Fields(), &meta), pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem))
}
