package chsink

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// columnValues converts an Arrow array into the slice clickhouse-go appends
// column-wise: []T, or []*T for nullable columns.
func columnValues(arr arrow.Array, nullable bool) (any, error) {
	n := arr.Len()
	switch a := arr.(type) {
	case *array.String:
		return values(n, nullable, a.IsNull, a.Value), nil
	case *array.Int64:
		if !nullable {
			return a.Int64Values(), nil
		}
		return nullables(n, a.IsNull, a.Value), nil
	case *array.Float64:
		if !nullable {
			return a.Float64Values(), nil
		}
		return nullables(n, a.IsNull, a.Value), nil
	case *array.Boolean:
		return values(n, nullable, a.IsNull, func(i int) uint8 {
			if a.Value(i) {
				return 1
			}
			return 0
		}), nil
	case *array.Timestamp:
		return values(n, nullable, a.IsNull, func(i int) time.Time { return time.UnixMilli(int64(a.Value(i))).UTC() }), nil
	case *array.Date32:
		return values(n, nullable, a.IsNull, func(i int) time.Time { return a.Value(i).ToTime() }), nil
	case *array.Dictionary:
		return dictionaryValues(a, nullable)
	}
	return nil, fmt.Errorf("no ClickHouse conversion for %s", arr.DataType())
}

// dictionaryValues converts a dictionary array (an enum or a lineage column
// of transform.WithDictionaries): its dictionary once, then each row's
// value picked from it by index.
func dictionaryValues(a *array.Dictionary, nullable bool) (any, error) {
	dict, err := columnValues(a.Dictionary(), false)
	if err != nil {
		return nil, fmt.Errorf("dictionary of %s: %w", a.DataType(), err)
	}
	switch d := dict.(type) {
	case []string:
		return pick(a, nullable, d), nil
	case []int64:
		return pick(a, nullable, d), nil
	case []float64:
		return pick(a, nullable, d), nil
	case []uint8:
		return pick(a, nullable, d), nil
	case []time.Time:
		return pick(a, nullable, d), nil
	}
	return nil, fmt.Errorf("no ClickHouse conversion for %s", a.DataType())
}

func pick[T any](a *array.Dictionary, nullable bool, dict []T) any {
	return values(a.Len(), nullable, a.IsNull, func(i int) T { return dict[a.GetValueIndex(i)] })
}

// values is []T of value, or []*T with nil for nulls when nullable.
func values[T any](n int, nullable bool, isNull func(int) bool, value func(int) T) any {
	if nullable {
		return nullables(n, isNull, value)
	}
	out := make([]T, n)
	for i := range n {
		out[i] = value(i)
	}
	return out
}

func nullables[T any](n int, isNull func(int) bool, value func(int) T) []*T {
	vals := make([]T, n)
	out := make([]*T, n)
	for i := range n {
		if !isNull(i) {
			vals[i] = value(i)
			out[i] = &vals[i]
		}
	}
	return out
}
