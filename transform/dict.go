package transform

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DictionaryOf is the type of a dictionary-encoded column of values of
// type t, as WithDictionaries makes them: int32 indices.
func DictionaryOf(t arrow.DataType) *arrow.DictionaryType {
	return &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: t}
}

// Dense is the schema s with every dictionary type replaced by its value
// type: the schema of the same batches without dictionaries.
func Dense(s *arrow.Schema) *arrow.Schema {
	fields := s.Fields()
	changed := false
	for i, f := range fields {
		if dt, ok := f.Type.(*arrow.DictionaryType); ok {
			fields[i].Type = dt.ValueType
			changed = true
		}
	}
	if !changed {
		return s
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

// enumDictionary is the dictionary of an Enum column: its values, in the
// order declared.
func enumDictionary(mem memory.Allocator, values []string) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	for _, v := range values {
		b.Append(v)
	}
	return b.NewArray()
}
