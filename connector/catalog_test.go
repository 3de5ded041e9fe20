package connector

import (
	"encoding/json"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Each kind of column maps to its JSON type; a column an export may lack,
// or declared nullable, is ["null", T]; lineage columns are there, never
// null; _row_hash where the key holds it.
func TestStreamSchema(t *testing.T) {
	prop := func(st *schema.Stream, d Dialect, name string) string {
		p, ok := StreamSchema(st, d)["properties"].(map[string]any)[name]
		if !ok {
			return "absent"
		}
		raw, _ := json.Marshal(p)
		return string(raw)
	}
	for _, tc := range []struct {
		st   *schema.Stream
		d    Dialect
		col  string
		want string
	}{
		{schema.Activity, Airbyte, "activityId", `{"type":"string"}`},
		{schema.Activity, Airbyte, "createdAt", `{"airbyte_type":"timestamp_with_timezone","format":"date-time","type":"string"}`},
		{schema.Activity, Singer, "createdAt", `{"format":"date-time","type":"string"}`},
		{schema.Activity, Airbyte, "seatId", `{"type":"integer"}`},
		{schema.Activity, Airbyte, "memberIdentityKey", `{"type":["null","string"]}`},
		{schema.Activity, Airbyte, "activityType", `{"enum":["SAVED_LEAD","SAVED_ACCOUNT","SEARCH_PERFORMED","PROFILE_VIEWED","INMAIL_SENT","MESSAGE_SENT","CONNECTION_MADE"],"type":"string"}`},
		{schema.Activity, Airbyte, "_job_id", `{"type":"integer"}`},
		{schema.Activity, Airbyte, "_window_end", `{"airbyte_type":"timestamp_with_timezone","format":"date-time","type":"string"}`},
		{schema.Activity, Airbyte, "_row_hash", "absent"},
		{schema.ActivityOutcome, Airbyte, "createdAt", `{"airbyte_type":"timestamp_with_timezone","format":"date-time","type":["null","string"]}`}, // assumed: may be absent
		{schema.Seat, Airbyte, "socialSellingIndex", `{"type":["null","number"]}`},
		{schema.Seat, Airbyte, "_snapshot_date", `{"format":"date","type":"string"}`},
		{schema.Seat, Airbyte, "_row_hash", `{"description":"FNV-64a hash of the row (its identity columns when it has them all, else its data columns), as a decimal number: the key where LinkedIn documents none","type":"string"}`},
		{schema.CRMValidation, Airbyte, "_next_export_start_at", `{"type":"integer"}`},
		{schema.CRMValidation, Airbyte, "_contract", "absent"},
		{schema.Contracts, Airbyte, "hasReportingAccess", `{"type":"boolean"}`},
		{schema.Contracts, Airbyte, "description", `{"type":["null","string"]}`},
		{schema.Contracts, Airbyte, "_contract", "absent"}, // a dimension: no lineage
		{schema.ProfileAssociations, Airbyte, "status", `{"enum":["MATCHED","UNMATCHED","ERROR"],"type":"string"}`},
	} {
		if got := prop(tc.st, tc.d, tc.col); got != tc.want {
			t.Errorf("%s.%s: %s, want %s", tc.st.Name, tc.col, got, tc.want)
		}
	}
}

func TestCursorAndKey(t *testing.T) {
	for _, tc := range []struct {
		st     *schema.Stream
		cursor string
	}{
		{schema.Contracts, ""}, {schema.Seat, "_window_end"}, {schema.Activity, "_window_end"}, {schema.ActivityOutcome, "_window_end"},
		{schema.CRMValidation, "_next_export_start_at"}, {schema.ProfileAssociations, "fetchedAt"},
	} {
		if got := CursorField(tc.st); got != tc.cursor || Incremental(tc.st) != (tc.cursor != "") {
			t.Errorf("%s: cursor %q, want %q", tc.st.Name, got, tc.cursor)
		}
		props := StreamSchema(tc.st, Airbyte)["properties"].(map[string]any)
		for _, k := range PrimaryKey(tc.st) {
			if _, ok := props[k]; !ok {
				t.Errorf("%s: key %s is not a property", tc.st.Name, k)
			}
		}
		if _, ok := props[tc.cursor]; tc.cursor != "" && !ok {
			t.Errorf("%s: cursor %s is not a property", tc.st.Name, tc.cursor)
		}
	}
}
