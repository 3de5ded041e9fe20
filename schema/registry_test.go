package schema

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// A declaration that contradicts itself is refused, naming the stream and
// the contradiction.
func TestBadDeclarations(t *testing.T) {
	good := func() *Stream {
		return &Stream{Name: "notes", Extract: AnalyticsExport, Action: "exportNotes", Partitioning: ByRecordDay, DayColumn: "at", Write: MergeByKey,
			Columns: []Column{{Name: "id", Kind: String, Required: true}, {Name: "at", Kind: Timestamp, Required: true}},
			Key:     []string{LineageContract, "id"}}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("a good declaration: %v", err)
	}
	for _, c := range []struct {
		name   string
		mutate func(*Stream)
		want   string
	}{
		{"no name", func(s *Stream) { s.Name = "" }, "lower-case"},
		{"upper-case name", func(s *Stream) { s.Name = "Notes" }, "lower-case"},
		{"no columns", func(s *Stream) { s.Columns = nil; s.DayColumn = ""; s.Partitioning = SnapshotDay; s.Write = Replace }, "no columns"},
		{"a column twice", func(s *Stream) { s.Columns = append(s.Columns, Column{Name: "id"}) }, "declared twice"},
		{"a lineage name", func(s *Stream) { s.Columns = append(s.Columns, Column{Name: LineageJobID}) }, "lineage name"},
		{"enum without values", func(s *Stream) { s.Columns = append(s.Columns, Column{Name: "k", Kind: Enum}) }, "no values"},
		{"an assumed column required", func(s *Stream) { s.Columns[0].Assumed = true }, "column id is assumed"},
		{"an assumed day column required", func(s *Stream) { s.Columns[1].Assumed = true }, "column at is assumed"},
		{"no key", func(s *Stream) { s.Key = nil }, "no key"},
		{"key of no column", func(s *Stream) { s.Key = []string{"nope"} }, "key column nope"},
		{"identity of no column", func(s *Stream) { s.Identity = []string{"nope"} }, "identity column nope"},
		{"version of no column", func(s *Stream) { s.Version = "nope" }, "version column nope"},
		{"day column missing", func(s *Stream) { s.DayColumn = "nope" }, "DayColumn \"nope\""},
		{"day column nullable", func(s *Stream) { s.Columns[1].Nullable = true }, "non-null timestamp"},
		{"day column not a timestamp", func(s *Stream) { s.Columns[1].Kind = String }, "non-null timestamp"},
		{"days replaced", func(s *Stream) { s.Write = Replace }, "merge by key"},
		{"snapshot merged", func(s *Stream) { s.Partitioning, s.DayColumn = SnapshotDay, "" }, "replaces its partition"},
		{"day column off", func(s *Stream) { s.Partitioning, s.Write = SnapshotDay, Replace }, "only for partitioning by record day"},
		{"no partitioning", func(s *Stream) { s.Partitioning, s.DayColumn = 0, "" }, "no partitioning"},
		{"no extraction", func(s *Stream) { s.Extract, s.Action = 0, "" }, "no extraction"},
		{"CRM export by day", func(s *Stream) { s.Extract, s.Action = CRMValidationExport, "" }, "cannot be partitioned by record day"},
		{"whole-table analytics", func(s *Stream) { s.Partitioning, s.DayColumn = WholeTable, "" }, "cannot be partitioned whole table"},
		{"analytics without action", func(s *Stream) { s.Action = "" }, "Action goes with"},
		{"action on a lookup", func(s *Stream) { s.Extract, s.Partitioning, s.DayColumn = AssociationLookup, WholeTable, "" }, "Action goes with"},
		{"dimension without write mode", func(s *Stream) {
			s.Extract, s.Action, s.Partitioning, s.DayColumn, s.Write = ContractsList, "", WholeTable, "", 0
		}, "no write mode"},
	} {
		s := good()
		s.Columns = slices.Clone(s.Columns)
		c.mutate(s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || (s.Name != "" && !strings.Contains(err.Error(), `"`+s.Name+`"`)) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// Nothing assumed is required: no registered stream requires a column
// LinkedIn does not document, so an export with only the documented columns
// never fails for want of a guess; and a day column that is assumed (not
// required) is a valid declaration.
func TestAssumedColumnsNeverRequired(t *testing.T) {
	for _, st := range All() {
		for _, c := range st.Columns {
			if c.Assumed && c.Required {
				t.Errorf("%s.%s is assumed and required", st.Name, c.Name)
			}
		}
	}
	if !ActivityOutcome.DayOptional() || Activity.DayOptional() {
		t.Errorf("day optional: activity_outcome %v, activity %v", ActivityOutcome.DayOptional(), Activity.DayOptional())
	}
	s := &Stream{Name: "notes", Extract: AnalyticsExport, Action: "exportNotes", Partitioning: ByRecordDay, DayColumn: "at", Write: MergeByKey,
		Columns: []Column{{Name: "id", Kind: String, Required: true}, {Name: "at", Kind: Timestamp, Assumed: true}},
		Key:     []string{LineageContract, "id"}}
	if err := s.Validate(); err != nil || !s.DayOptional() {
		t.Errorf("an assumed, optional day column: %v (optional %v)", err, s.DayOptional())
	}
}

// The registry: built-ins in run order, defaults, and a stream registered
// by a test that can be looked up, refused twice, and taken out again.
func TestRegistry(t *testing.T) {
	if got := Names(All()); !slices.Equal(got, []string{"contracts", "seat", "activity", "activity_outcome", "crm_validation", "profile_associations"}) {
		t.Errorf("registry %v", got)
	}
	if got := Names(Defaults()); !slices.Equal(got, []string{"contracts", "seat", "activity", "activity_outcome"}) {
		t.Errorf("defaults %v", got)
	}
	for _, st := range All() {
		if st.Extract.AppToken() != (st.Extract == CRMValidationExport || st.Extract == AssociationLookup) {
			t.Errorf("%s: app token %v", st.Name, st.Extract.AppToken())
		}
	}
	notes := &Stream{Name: "notes", Extract: AnalyticsExport, Action: "exportNotes", Partitioning: SnapshotDay, Write: Replace,
		Columns: []Column{{Name: "id", Kind: String}}, Key: []string{LineageContract, LineageSnapshotDate, RowHash}}
	unregister, err := Register(notes)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Lookup("notes"); err != nil || got != notes {
		t.Errorf("lookup of a registered stream: %v, %v", got, err)
	}
	if _, err := Register(&Stream{Name: "notes", Extract: ContractsList, Partitioning: WholeTable, Write: Replace, Columns: []Column{{Name: "x"}}, Key: []string{"x"}}); !errors.Is(err, ErrDuplicateStream) {
		t.Errorf("a name registered twice: %v", err)
	}
	if _, err := Register(&Stream{Name: "bad"}); err == nil {
		t.Error("an invalid declaration registered")
	}
	unregister()
	if _, err := Lookup("notes"); err == nil {
		t.Error("an unregistered stream is still there")
	}
}
