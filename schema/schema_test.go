package schema

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestStreams(t *testing.T) {
	for _, s := range Streams {
		got, err := Lookup(s.Name)
		if err != nil || got != s {
			t.Errorf("Lookup(%q) = %v, %v", s.Name, got, err)
		}
		if s.DayColumn != "" {
			c, ok := s.Column(s.DayColumn)
			if !ok || c.Kind != Timestamp || c.Nullable || c.Required == c.Assumed {
				t.Errorf("%s: partition column %q must be a non-null timestamp, required when documented and only then", s.Name, s.DayColumn)
			}
		}
		for _, c := range s.Columns {
			if IsLineage(c.Name) {
				t.Errorf("%s: column %s uses a lineage name", s.Name, c.Name)
			}
		}
	}
	for _, s := range All() {
		if got, err := Lookup(s.Name); err != nil || got != s {
			t.Errorf("Lookup(%q) = %v, %v", s.Name, got, err)
		}
	}
	if CRMValidation.Snapshot() || !CRMValidation.PerExport() || CRMValidation.OwnerColumn() != LineageCRMInstance {
		t.Error("crm_validation must be per export, owned by a CRM instance")
	}
	for _, f := range CRMValidation.LineageFields() {
		if !IsLineage(f.Name) {
			t.Errorf("crm_validation lineage %s is not reserved", f.Name)
		}
	}
	if _, err := Lookup("nope"); err == nil {
		t.Error("Lookup(nope) succeeded")
	}
}

func TestActivitySchema(t *testing.T) {
	want := map[string]arrow.DataType{
		"activityId": arrow.BinaryTypes.String, "activityType": arrow.BinaryTypes.String,
		"createdAt": TimestampType, "seatId": arrow.PrimitiveTypes.Int64, "memberIdentityKey": arrow.BinaryTypes.String,
	}
	for name, typ := range want {
		c, ok := Activity.Column(name)
		if !ok || !arrow.TypeEqual(c.Field().Type, typ) {
			t.Errorf("activity.%s: %v", name, c.Field().Type)
		}
	}
	if c, _ := Activity.Column("activityType"); c.Kind != Enum || len(c.Values) != 7 {
		t.Errorf("activityType must be an enum of the seven documented types")
	}
	if c, _ := Activity.Column("memberIdentityKey"); !c.Nullable || c.Required {
		t.Errorf("memberIdentityKey must be optional and nullable")
	}
	if c, _ := Activity.Column("activityId"); c.Nullable {
		t.Errorf("activityId must not be nullable")
	}
	if ts := TimestampType; ts.TimeZone != "UTC" || ts.Unit != arrow.Millisecond {
		t.Errorf("timestamp type %v", ts)
	}
}

// Lineage names every lineage field, in LineageFields' order.
func TestLineageNames(t *testing.T) {
	for _, st := range []*Stream{Activity, Seat, CRMValidation} {
		n := st.Lineage()
		var names []string
		for _, f := range st.LineageFields() {
			names = append(names, f.Name)
		}
		want := []string{n.Owner, n.Start, n.End, n.JobID, n.ExtractedAt}
		if n.SnapshotDate != "" {
			want = append(want, n.SnapshotDate)
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: lineage fields %v, names %v", st.Name, names, want)
		}
	}
}

// A Builder finds columns by name and refuses a name its schema lacks.
func TestBuilderByName(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := NewBuilder(mem, Contracts.Schema())
	defer b.Release()
	desc := "d"
	b.String("name", "Acme")
	b.String("contract", "urn:li:salesContract:1")
	b.OptString("description", &desc)
	b.Col("hasReportingAccess").(*array.BooleanBuilder).Append(true)
	b.Col("seenAt").(*array.TimestampBuilder).Append(5)
	rec := b.NewRecordBatch()
	defer rec.Release()
	if got := rec.Column(0).(*array.String).Value(0); got != "urn:li:salesContract:1" {
		t.Errorf("contract %q", got)
	}
	if got := rec.Column(1).(*array.String).Value(0); got != "Acme" {
		t.Errorf("name %q", got)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `"nope"`) {
			t.Errorf("an unknown column: %v", r)
		}
	}()
	b.Col("nope")
}
