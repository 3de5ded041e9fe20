package connector

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// Any row encodes to valid JSON that encoding/json's decoder reads back
// as the row's values: strings as encoding/json would write them (bytes
// that are not UTF-8 as U+FFFD), integers exactly, numbers to the bit (or
// null for NaN and infinities), times and dates as their instants, nulls
// as null, dictionary values by index.
func FuzzJSONRows(f *testing.F) {
	f.Add("plain", int64(7), 1.5, true, int64(1770000000123), int32(20500), uint8(0))
	f.Add("q\"\\\n\x00\xff東", int64(math.MinInt64), math.Inf(1), false, int64(-62135596800000), int32(-719162), uint8(0x55))
	f.Add("", int64(0), math.NaN(), true, int64(253402300799999), int32(2932896), uint8(0xff))
	f.Fuzz(func(t *testing.T, s string, i int64, fl float64, b bool, ms int64, days int32, nulls uint8) {
		// Years 1 to 9999: the transform's times have four-digit years.
		const lo, hi = -62135596800000, 253402300799999
		ms = lo + int64(uint64(ms)%uint64(hi-lo+1))
		days = int32(-719162 + int64(uint32(days))%(2932896+719162+1))
		mem := memory.NewGoAllocator()
		dictType := transform.DictionaryOf(arrow.BinaryTypes.String)
		sc := arrow.NewSchema([]arrow.Field{
			{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true}, {Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
			{Name: "t", Type: schema.TimestampType, Nullable: true}, {Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
			{Name: "k" + s, Type: dictType, Nullable: true}, // any name, escaped
		}, nil)
		bld := array.NewRecordBuilder(mem, sc)
		defer bld.Release()
		null := func(c int) bool { return nulls&(1<<c) != 0 }
		appendOr := func(c int, add func()) {
			if null(c) {
				bld.Field(c).AppendNull()
			} else {
				add()
			}
		}
		appendOr(0, func() { bld.Field(0).(*array.StringBuilder).Append(s) })
		appendOr(1, func() { bld.Field(1).(*array.Int64Builder).Append(i) })
		appendOr(2, func() { bld.Field(2).(*array.Float64Builder).Append(fl) })
		appendOr(3, func() { bld.Field(3).(*array.BooleanBuilder).Append(b) })
		appendOr(4, func() { bld.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(ms)) })
		appendOr(5, func() { bld.Field(5).(*array.Date32Builder).Append(arrow.Date32(days)) })
		appendOr(6, func() {
			if err := bld.Field(6).(*array.BinaryDictionaryBuilder).AppendString(s); err != nil {
				t.Fatal(err)
			}
		})
		rec := bld.NewRecordBatch()
		defer rec.Release()
		rows, err := NewRows(schema.Activity, rec)
		if err != nil {
			t.Fatal(err)
		}
		out := rows.Append(nil, 0)
		if !json.Valid(out) {
			t.Fatalf("not valid JSON: %s", out)
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		var wantS, wantKey string
		ref, _ := json.Marshal(s)
		_ = json.Unmarshal(ref, &wantS)
		ref, _ = json.Marshal("k" + s)
		_ = json.Unmarshal(ref, &wantKey)
		check := func(c int, key string, ok func(v any) bool) {
			v, present := m[key]
			if !present {
				t.Fatalf("no key %q in %s", key, out)
			}
			if null(c) {
				if v != nil {
					t.Errorf("%s: %v, want null", key, v)
				}
				return
			}
			if !ok(v) {
				t.Errorf("%s: %#v in %s", key, v, out)
			}
		}
		check(0, "s", func(v any) bool { return v == wantS })
		check(1, "i", func(v any) bool { return v == json.Number(strconv.FormatInt(i, 10)) })
		check(2, "f", func(v any) bool {
			if math.IsNaN(fl) || math.IsInf(fl, 0) {
				return v == nil
			}
			n, ok := v.(json.Number)
			got, err := strconv.ParseFloat(string(n), 64)
			return ok && err == nil && got == fl
		})
		check(3, "b", func(v any) bool { return v == b })
		check(4, "t", func(v any) bool {
			p, err := time.Parse(time.RFC3339Nano, v.(string))
			return err == nil && p.UnixMilli() == ms
		})
		check(5, "d", func(v any) bool {
			p, err := time.Parse(time.DateOnly, v.(string))
			return err == nil && p.Unix() == int64(days)*86400
		})
		check(6, wantKey, func(v any) bool { return v == wantS })
	})
}
