package schema

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestStreams(t *testing.T) {
	for _, s := range Streams {
		got, err := Lookup(s.Name)
		if err != nil || got != s {
			t.Errorf("Lookup(%q) = %v, %v", s.Name, got, err)
		}
		if s.PartitionColumn != "" {
			c, ok := s.Column(s.PartitionColumn)
			if !ok || c.Kind != Timestamp || c.Nullable || !c.Required {
				t.Errorf("%s: partition column %q must be a required, non-null timestamp", s.Name, s.PartitionColumn)
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
	if CRMValidation.Snapshot() || !CRMValidation.PerExport || CRMValidation.OwnerColumn() != LineageCRMInstance {
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
