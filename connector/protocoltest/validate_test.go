package protocoltest

import (
	"strings"
	"testing"
)

// The schemas accept the protocols' own examples and refuse what breaks
// their rules.
func TestSchemas(t *testing.T) {
	for _, tc := range []struct {
		def, doc string
		ok       bool
	}{
		{"AirbyteMessage", `{"type":"RECORD","record":{"stream":"users","data":{"id":1},"emitted_at":1}}`, true},
		{"AirbyteMessage", `{"type":"RECORD","record":{"stream":"users","data":{"id":1}}}`, false},           // no emitted_at
		{"AirbyteMessage", `{"type":"RECORD","log":{"level":"INFO","message":"x"}}`, false},                  // no record
		{"AirbyteMessage", `{"type":"LOG","log":{"level":"NOTICE","message":"x"}}`, false},                   // no such level
		{"AirbyteMessage", `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_state":{}}}}`, false}, // no descriptor
		{"AirbyteMessage", `{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1}}`, false},        // no stream_status
		{"AirbyteMessage", `{"type":"TRACE","trace":{"type":"ERROR","emitted_at":1,"error":{"message":"m","failure_type":"oops"}}}`, false},
		{"AirbyteMessage", `{"type":"SPEC","spec":{"documentationUrl":"not a uri","connectionSpecification":{}}}`, false},
		{"AirbyteMessage", `{"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED"}}`, true},
		{"AirbyteMessage", `{"type":"CATALOG","catalog":{"streams":[{"name":"s","json_schema":{},"supported_sync_modes":[]}]}}`, false},
		{"SingerMessage", `{"type":"SCHEMA","stream":"users","key_properties":["id"],"schema":{"type":"object"}}`, true},
		{"SingerMessage", `{"type":"SCHEMA","stream":"users","schema":{"type":"object"}}`, false}, // no key_properties
		{"SingerMessage", `{"type":"RECORD","stream":"users","record":{"id":1},"time_extracted":"2017-11-20T16:45:33.000Z"}`, true},
		{"SingerMessage", `{"type":"RECORD","stream":"users","record":{"id":1},"time_extracted":"yesterday"}`, false},
		{"SingerMessage", `{"type":"STATE","value":{"users":2}}`, true},
		{"SingerMessage", `{"type":"STATE"}`, false},
		{"SingerMessage", `{"type":"ACTIVATE_VERSION","stream":"users"}`, false},
		{"SingerCatalog", `{"streams":[{"tap_stream_id":"users","schema":{},"metadata":[{"breadcrumb":[],"metadata":{"selected":true}}]}]}`, true},
		{"SingerCatalog", `{"streams":[{"tap_stream_id":"users","schema":{},"metadata":[{"breadcrumb":[],"metadata":{"replication-method":"SOMETIMES"}}]}]}`, false},
	} {
		err := Validate(tc.def, []byte(tc.doc))
		if (err == nil) != tc.ok {
			t.Errorf("%s %s: error %v, want ok=%v", tc.def, tc.doc, err, tc.ok)
		}
	}
}

// A Singer record before its stream's SCHEMA, or not valid against it,
// is reported with its line.
func TestSingerOrder(t *testing.T) {
	schema := `{"type":"SCHEMA","stream":"s","key_properties":[],"schema":{"type":"object","properties":{"d":{"type":"string","format":"date"}}}}`
	if _, err := Singer([]byte(`{"type":"RECORD","stream":"s","record":{}}` + "\n" + schema + "\n")); err == nil || !strings.Contains(err.Error(), "line 1: a RECORD of s before its SCHEMA") {
		t.Errorf("record first: %v", err)
	}
	if _, err := Singer([]byte(schema + "\n" + `{"type":"RECORD","stream":"s","record":{"d":"2026-13-45"}}` + "\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad date: %v", err)
	}
	if _, err := Singer([]byte(schema + "\n" + `{"type":"RECORD","stream":"s","record":{"d":"2026-02-01"}}` + "\n")); err != nil {
		t.Errorf("good output: %v", err)
	}
}
