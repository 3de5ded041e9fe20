package transform

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// parseRow parses rec into scratch and appends it, or rejects it. It
// returns whether the row was appended.
func (r *Reader) parseRow(rec []string) (bool, error) {
	line := r.csv.startLine
	if r.dirty {
		clear(r.fixed)
		r.dirty = false
	}
	if len(rec) != r.nfields {
		return false, r.reject(line, rec, "", "", fmt.Sprintf("row has %d fields, header has %d", len(rec), r.nfields))
	}
	for i := range r.plans {
		p := &r.plans[i]
		if p.src < 0 {
			r.nulls[i] = true
			continue
		}
		v := rec[p.src]
		if v == "" {
			if !p.col.Nullable {
				return false, r.reject(line, rec, p.col.Name, v, "empty value in a column that cannot be null")
			}
			r.nulls[i] = true
			continue
		}
		r.nulls[i] = false
		var bad string
		if (p.col.Kind == schema.String || p.col.Kind == schema.Enum) && !utf8.ValidString(v) {
			if r.cfg.invalidUTF8 != ReplaceInvalidUTF8 {
				return false, r.reject(line, rec, p.col.Name, v, "not valid UTF-8")
			}
			v = strings.ToValidUTF8(v, "\uFFFD")
			r.fixed[i], r.dirty = v, true
		}
		switch p.col.Kind {
		case schema.Int64:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				bad = "not an integer"
			}
			r.ints[i] = n
		case schema.Float64:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				bad = "not a number"
			}
			r.floats[i] = f
		case schema.Bool:
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad = "not a boolean"
			}
			r.bools[i] = b
		case schema.Timestamp:
			ms, err := parseExportTime(v)
			if err != nil {
				bad = "not a time: " + err.Error()
			} else if i == r.partIdx && r.winEnd != 0 && (ms < r.winStart || ms > r.winEnd) {
				bad = fmt.Sprintf("outside the export window [%s, %s]",
					time.UnixMilli(r.winStart).UTC().Format(time.RFC3339), time.UnixMilli(r.winEnd).UTC().Format(time.RFC3339Nano))
			}
			r.ints[i] = ms
		case schema.Date:
			d, err := parseISODate(v)
			if err != nil {
				bad = "not a date: " + err.Error()
			}
			r.ints[i] = int64(d)
		case schema.Enum:
			j, ok := p.enum[v]
			if !ok {
				bad = "not one of " + strings.Join(p.col.Values, ", ")
			}
			r.ints[i] = int64(j)
		}
		if bad != "" {
			return false, r.reject(line, rec, p.col.Name, v, bad)
		}
	}
	for i := range r.plans {
		b := r.bld.Field(i)
		if r.nulls[i] {
			b.AppendNull()
			continue
		}
		p := &r.plans[i]
		if p.dict != nil { // an Enum's index
			b.(*array.Int32Builder).Append(int32(r.ints[i]))
			continue
		}
		switch p.col.Kind {
		case schema.Int64:
			b.(*array.Int64Builder).Append(r.ints[i])
		case schema.Float64:
			b.(*array.Float64Builder).Append(r.floats[i])
		case schema.Bool:
			b.(*array.BooleanBuilder).Append(r.bools[i])
		case schema.Timestamp:
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(r.ints[i]))
		case schema.Date:
			b.(*array.Date32Builder).Append(arrow.Date32(r.ints[i]))
		default:
			v := rec[p.src]
			if r.dirty && r.fixed[i] != "" {
				v = r.fixed[i]
			}
			b.(*array.StringBuilder).Append(v)
		}
	}
	if r.dirty {
		r.repaired++
	}
	return true, nil
}
