package connector

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Rows encodes the rows of one record batch of a stream as JSON objects:
// every column of the batch by its name, in the batch's order (known
// columns, drift columns, lineage), then, for a stream whose key holds
// schema.RowHash, that hash (schema.RowHashes) as a decimal string. Values
// are written as StreamSchema describes them: a timestamp as an RFC 3339
// time in UTC to the millisecond, a date as YYYY-MM-DD, a number as a JSON
// number (NaN and infinities, which JSON lacks, as null), a null as null.
// Dictionary arrays (transform.WithDictionaries) are encoded through
// their dictionary, each distinct value once per batch.
type Rows struct {
	cols []column
	hash []uint64
	n    int
}

// column is one column of a batch: its key ("name":) and its values.
type column struct {
	key   []byte
	value valueFunc
}

// valueFunc appends the JSON value of row i.
type valueFunc func(dst []byte, i int) []byte

// NewRows plans the encoding of rec, a batch of st. A column of a type no
// stream has is an error naming it.
func NewRows(st *schema.Stream, rec arrow.RecordBatch) (*Rows, error) {
	r := &Rows{n: int(rec.NumRows())}
	for i, f := range rec.Schema().Fields() {
		v, err := valueOf(rec.Column(i))
		if err != nil {
			return nil, fmt.Errorf("encoding column %s of %s: %w", f.Name, st.Name, err)
		}
		r.cols = append(r.cols, column{key: append(AppendString(nil, f.Name), ':'), value: v})
	}
	if st.HasRowHash() {
		identity, data := st.HashColumns(rec.Schema())
		r.hash = schema.RowHashes(rec, identity, data)
	}
	return r, nil
}

// Len is the number of rows.
func (r *Rows) Len() int { return r.n }

// Append appends row i as a JSON object.
func (r *Rows) Append(dst []byte, i int) []byte {
	dst = append(dst, '{')
	for c := range r.cols {
		if c > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, r.cols[c].key...)
		dst = r.cols[c].value(dst, i)
	}
	if r.hash != nil {
		if len(r.cols) > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `"`+schema.RowHash+`":"`...)
		dst = strconv.AppendUint(dst, r.hash[i], 10)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// timeLayout writes a timestamp in UTC to the millisecond (Z for UTC).
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// valueOf returns the encoder of an array's values.
func valueOf(arr arrow.Array) (valueFunc, error) {
	var v valueFunc
	switch a := arr.(type) {
	case *array.String:
		v = func(dst []byte, i int) []byte { return AppendString(dst, a.Value(i)) }
	case *array.Int64:
		v = func(dst []byte, i int) []byte { return strconv.AppendInt(dst, a.Value(i), 10) }
	case *array.Int32:
		v = func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Float64:
		v = func(dst []byte, i int) []byte { return AppendFloat(dst, a.Value(i)) }
	case *array.Boolean:
		v = func(dst []byte, i int) []byte { return strconv.AppendBool(dst, a.Value(i)) }
	case *array.Timestamp:
		toTime, err := a.DataType().(*arrow.TimestampType).GetToTimeFunc()
		if err != nil {
			return nil, err
		}
		v = func(dst []byte, i int) []byte {
			dst = append(dst, '"')
			dst = toTime(a.Value(i)).UTC().AppendFormat(dst, timeLayout)
			return append(dst, '"')
		}
	case *array.Date32:
		v = func(dst []byte, i int) []byte {
			dst = append(dst, '"')
			dst = a.Value(i).ToTime().UTC().AppendFormat(dst, time.DateOnly)
			return append(dst, '"')
		}
	case *array.Dictionary:
		return dictionaryOf(a)
	default:
		return nil, fmt.Errorf("no JSON encoding for %s", arr.DataType())
	}
	if arr.NullN() == 0 {
		return v, nil
	}
	return func(dst []byte, i int) []byte {
		if arr.IsNull(i) {
			return append(dst, "null"...)
		}
		return v(dst, i)
	}, nil
}

// dictionaryOf encodes a dictionary array: each dictionary value once,
// then each row's by its index.
func dictionaryOf(a *array.Dictionary) (valueFunc, error) {
	dict := a.Dictionary()
	enc, err := valueOf(dict)
	if err != nil {
		return nil, fmt.Errorf("dictionary of %s: %w", a.DataType(), err)
	}
	vals := make([][]byte, dict.Len())
	for j := range vals {
		vals[j] = enc(nil, j)
	}
	return func(dst []byte, i int) []byte {
		if a.IsNull(i) {
			return append(dst, "null"...)
		}
		return append(dst, vals[a.GetValueIndex(i)]...)
	}, nil
}

// AppendFloat appends f as a JSON number, as encoding/json writes it
// (plain below 1e21 and from 1e-6, else with an exponent), or null for
// NaN and the infinities, which JSON cannot carry.
func AppendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 as 1e-7, as encoding/json writes it.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string: quotes, backslashes and
// control characters escaped, and each byte that is not valid UTF-8
// replaced by U+FFFD (as encoding/json does). Other characters are
// written as they are.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
