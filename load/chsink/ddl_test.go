package chsink

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestDDLGolden(t *testing.T) {
	for _, st := range schema.All() {
		stmts, err := StreamDDL("salesnav", st)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, st.Name+".sql", strings.Join(stmts, ";\n\n")+";\n")
	}
	state, err := CreateStateTable("salesnav")
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := CreateJobsTable("salesnav")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "state.sql", state+";\n\n"+jobs+";\n")
	// The partition replacements, with values that need quoting.
	var stmts []string
	for _, c := range []struct {
		st        *schema.Stream
		partition string
		stage     string
	}{
		{schema.Seat, SnapshotPartition("urn:li:contract:9'9", time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)), "_stage_seat_1"},
		{schema.CRMValidation, ExportPartition("urn:li:crmInstance:(SFDC,00D\\1)", time.UnixMilli(1772323200123)), "_stage_crm_validation_1"},
	} {
		replace, err := ReplacePartition("salesnav", c.st, c.partition, c.stage)
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, replace)
	}
	golden(t, "replace.sql", strings.Join(stmts, ";\n\n")+";\n")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "clickhouse", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./load/chsink -run TestDDLGolden -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestQuoteIdent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"activity", "`activity`"},
		{"my db", "`my db`"},
		{"a`b", "`a\\`b`"},
		{`a\b`, "`a\\\\b`"},
		{"x`; DROP TABLE t; --", "`x\\`; DROP TABLE t; --`"},
		{`q'"`, "`q'\"`"},
		{"é", "`é`"},
	}
	for _, tt := range tests {
		got, err := QuoteIdent(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("QuoteIdent(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "a\x00b", "new\nline", "\xff", strings.Repeat("x", 300)} {
		if _, err := QuoteIdent(bad); !errors.Is(err, ErrBadIdentifier) {
			t.Errorf("QuoteIdent(%q) error %v, want ErrBadIdentifier", bad, err)
		}
	}
	// A drift column with a hostile name is quoted, never spliced.
	stmt, err := AddColumn("db", "activity", Column{Name: "x` String, `y", Type: "Nullable(String)"})
	if err != nil || stmt != "ALTER TABLE `db`.`activity` ADD COLUMN `x\\` String, \\`y` Nullable(String)" {
		t.Errorf("AddColumn = %q, %v", stmt, err)
	}
}

func TestQuoteString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"urn:li:salesContract:1", `'urn:li:salesContract:1'`},
		{`a'b`, `'a\'b'`},
		{`a\b`, `'a\\b'`},
		{`x\'); DROP TABLE t; --`, `'x\\\'); DROP TABLE t; --'`},
		{"nul\x00nl\ntab\t", `'nul\0nl\ntab\t'`},
		{"`é`", "'`é`'"},
	}
	for _, tt := range tests {
		if got := QuoteString(tt.in); got != tt.want {
			t.Errorf("QuoteString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestColumnType(t *testing.T) {
	tests := []struct {
		f    arrow.Field
		enum bool
		want string
	}{
		{arrow.Field{Type: arrow.BinaryTypes.String}, false, "String"},
		{arrow.Field{Type: arrow.BinaryTypes.String, Nullable: true}, false, "Nullable(String)"},
		{arrow.Field{Type: arrow.BinaryTypes.String}, true, "LowCardinality(String)"},
		{arrow.Field{Type: arrow.BinaryTypes.String, Nullable: true}, true, "Nullable(String)"},
		{arrow.Field{Type: arrow.PrimitiveTypes.Int64}, false, "Int64"},
		{arrow.Field{Type: arrow.PrimitiveTypes.Float64, Nullable: true}, false, "Nullable(Float64)"},
		{arrow.Field{Type: arrow.FixedWidthTypes.Boolean}, false, "UInt8"},
		{arrow.Field{Type: schema.TimestampType}, false, "DateTime('UTC')"},
		{arrow.Field{Type: arrow.FixedWidthTypes.Date32}, false, "Date"},
	}
	for _, tt := range tests {
		got, err := ColumnType(tt.f, tt.enum)
		if err != nil || got != tt.want {
			t.Errorf("ColumnType(%s nullable=%v enum=%v) = %q, %v; want %q", tt.f.Type, tt.f.Nullable, tt.enum, got, err, tt.want)
		}
	}
	if _, err := ColumnType(arrow.Field{Name: "x", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "Europe/Paris"}}, false); err == nil {
		t.Error("non-UTC timestamp accepted")
	}
	if _, err := ColumnType(arrow.Field{Name: "x", Type: arrow.ListOf(arrow.PrimitiveTypes.Int8)}, false); err == nil {
		t.Error("list type accepted")
	}
}

func TestRedactDSN(t *testing.T) {
	got := RedactDSN("clickhouse://etl:hunter2@db:9000/sn?secure=true")
	if strings.Contains(got, "hunter2") || !strings.Contains(got, "etl:xxxxx@db:9000/sn") {
		t.Errorf("RedactDSN = %q", got)
	}
	if got := RedactDSN("clickhouse://db:9000/sn?username=etl&password=hunter2"); strings.Contains(got, "hunter2") {
		t.Errorf("RedactDSN(password parameter) = %q", got)
	}
	if got := redactErr(errors.New("auth failed for hunter2"), "clickhouse://db:9000/sn?password=hunter2"); strings.Contains(got.Error(), "hunter2") {
		t.Errorf("redactErr = %v", got)
	}
	err := Config{DSN: "http://etl:hunter2@db:8123/sn"}.Validate()
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "native protocol") {
		t.Errorf("Validate(http DSN) = %v", err)
	}
}

// TestClusterDDLGolden pins the statements of a cluster layout: ON CLUSTER
// everywhere, replicated engines at the layout's path ({shard} kept for
// the server's macros; "all" for the tables on every node), a Distributed
// table per stream sharded by ShardColumns, views over it.
func TestClusterDDLGolden(t *testing.T) {
	l := Layout{Cluster: "analytics"}
	db, err := l.CreateDatabase("salesnav")
	if err != nil {
		t.Fatal(err)
	}
	out := []string{db}
	for _, st := range schema.All() {
		stmts, err := l.StreamDDL("salesnav", st)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, stmts...)
	}
	state, _ := l.CreateStateTable("salesnav")
	jobs, _ := l.CreateJobsTable("salesnav")
	drop, _ := l.DropDistributed("salesnav", "activity")
	sharded, _ := l.AddColumn("salesnav", "activity", Column{Name: "region", Type: "Nullable(String)"}, true)
	global, _ := l.AddColumn("salesnav", StateTable, cursorMs, false)
	cols, _ := TableColumns(schema.Seat, arrow.NewSchema(append(fieldsOf(schema.Seat), schema.Seat.LineageFields()...), nil))
	stage, err := CreateStage("salesnav", "_stage_seat_1", schema.Seat, cols)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, state, jobs, drop, sharded, global, stage)
	golden(t, "cluster.sql", strings.Join(out, ";\n\n")+";\n")
}

func fieldsOf(st *schema.Stream) []arrow.Field {
	var f []arrow.Field
	for _, c := range st.Columns {
		f = append(f, c.Field())
	}
	return f
}

func TestLayoutValidate(t *testing.T) {
	for _, c := range []struct {
		l    Layout
		want string
	}{
		{Layout{}, ""},
		{Layout{ZKPath: "nonsense"}, ""}, // no cluster: unused
		{Layout{Cluster: "c"}, ""},
		{Layout{Cluster: "c", ZKPath: "/ch/{shard}/{table}", Replica: "r-{replica}"}, ""},
		{Layout{Cluster: "c", ZKPath: "/ch/{shard}/{database}"}, "{table}"},
		{Layout{Cluster: "c", ZKPath: "ch/{table}"}, "absolute"},
		{Layout{Cluster: "c", Replica: "it's"}, "quote"},
		{Layout{Cluster: "c\x00"}, "cluster"},
	} {
		err := c.l.Validate()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.l, err, c.want)
		}
	}
}

func TestPickShardAsDistributed(t *testing.T) {
	// Weights 1 and 2: slots 0 → shard 1; 1, 2 → shard 2 (the Distributed
	// engine's slot_to_shard).
	shards := []shard{{num: 1, weight: 1}, {num: 2, weight: 2}}
	for h, want := range map[uint64]int{0: 1, 1: 2, 2: 2, 3: 1, 10: 2, 12: 1} {
		if got := pickShard(shards, h).num; got != want {
			t.Errorf("hash %d: shard %d, want %d", h, got, want)
		}
	}
	if ShardColumns(schema.Seat)[0] != schema.LineageContract || ShardColumns(schema.CRMValidation)[0] != schema.LineageCRMInstance ||
		strings.Join(ShardColumns(schema.Activity), ",") != strings.Join(schema.Activity.Key, ",") {
		t.Error("ShardColumns: snapshot and per-export streams by partition, event streams by key")
	}
}
