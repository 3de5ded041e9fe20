package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/connector/airbyte"
	"github.com/salesnav-etl/salesnav-etl/connector/protocoltest"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Issue 20: the Airbyte source protocol and the Singer tap, against fakes
// on loopback with a fixed clock.

const (
	connectorNow   = "2026-02-11T12:00:00Z"
	connectorStart = "2026-02-01"
	connectorEnd   = "2026-02-08"
	connectorRows  = 40
)

var allStreams = []string{"contracts", "seat", "activity", "activity_outcome", "crm_validation", "profile_associations"}

// connectorFake is a fake API as run --fake-api --fake-now serves it
// (seed, contracts, clock), with connectorRows activities a day.
func connectorFake(t *testing.T) *testkit.Fake {
	now, _ := time.Parse(time.RFC3339, connectorNow)
	return testkit.NewFake(t, fakeapi.Config{RowsPerDay: connectorRows, Now: func() time.Time { return now }})
}

// connectorConfig writes a connector configuration for fake and returns
// its path; edit changes it first.
func connectorConfigFile(t *testing.T, dir, apiURL string, edit func(map[string]any)) string {
	t.Helper()
	cfg := map[string]any{
		"api_url":       apiURL,
		"credentials":   map[string]any{"auth_type": "access_token", "access_token": fakeapi.DefaultToken},
		"start_date":    connectorStart,
		"end_date":      connectorEnd,
		"streams":       allStreams,
		"crm_instances": []string{fakeapi.DefaultCRMInstances[0]},
	}
	if edit != nil {
		edit(cfg)
	}
	return writeJSON(t, filepath.Join(dir, "config.json"), cfg)
}

func writeJSON(t *testing.T, path string, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// configuredCatalog writes a configured catalog of streams, each
// incremental where it can be, else (or with full) full_refresh; it is
// checked against the protocol first.
func configuredCatalog(t *testing.T, path string, full bool, streams ...string) string {
	t.Helper()
	var cs []map[string]any
	for _, name := range streams {
		st, err := schema.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		s := airbyte.CatalogOf([]*schema.Stream{st}).Streams[0]
		mode := airbyte.FullRefresh
		if connector.Incremental(st) && !full {
			mode = airbyte.Incremental
		}
		cs = append(cs, map[string]any{"stream": s, "sync_mode": mode, "destination_sync_mode": "append"})
	}
	writeJSON(t, path, map[string]any{"streams": cs})
	raw, _ := os.ReadFile(path)
	if err := protocoltest.Validate("ConfiguredAirbyteCatalog", raw); err != nil {
		t.Fatalf("the test's catalog: %v", err)
	}
	return path
}

// connectorEnv is the environment of the connector commands in tests:
// quick polls, and nothing else.
func connectorEnv() map[string]string {
	return map[string]string{"SALESNAV_POLL_INTERVAL": "1ms", "SALESNAV_POLL_MAX_INTERVAL": "5ms"}
}

// airbyteSchemas are the JSON schemas of the catalog, by stream.
func airbyteSchemas() map[string]any {
	out := map[string]any{}
	for _, s := range airbyte.CatalogOf(schema.All()).Streams {
		out[s.Name] = s.JSONSchema
	}
	return out
}

// lastStates is the state to pass back after out: the last state message
// of each stream, as Airbyte keeps them.
func lastStates(t *testing.T, out *protocoltest.Output) []any {
	last := map[string]any{}
	var order []string
	for _, m := range out.Of(airbyte.TypeState) {
		name := m.Raw["state"].(map[string]any)["stream"].(map[string]any)["stream_descriptor"].(map[string]any)["name"].(string)
		if _, seen := last[name]; !seen {
			order = append(order, name)
		}
		last[name] = m.Raw["state"]
	}
	var states []any
	for _, n := range order {
		states = append(states, last[n])
	}
	return states
}

// canonical writes a row as sorted JSON with its values in one form per
// type (times as epoch milliseconds, numbers as numbers), without the
// columns that differ between two extractions (a job id, an extraction
// time), the Parquet path and the protocols' _row_hash.
func canonical(t *testing.T, st *schema.Stream, row map[string]any) string {
	t.Helper()
	props := connector.StreamSchema(st, connector.Airbyte)["properties"].(map[string]any)
	out := map[string]any{}
	for k, v := range row {
		switch k {
		case "_path", schema.RowHash, schema.LineageJobID, schema.LineageExtractedAt:
			continue
		}
		p, _ := props[k].(map[string]any)
		switch {
		case v == nil:
			out[k] = nil
		case p != nil && p["format"] == "date-time":
			out[k] = parseTime(t, fmt.Sprint(v)).UnixMilli()
		case p != nil && p["format"] == "date":
			out[k] = fmt.Sprint(v)[:10]
		default:
			if n, ok := v.(json.Number); ok {
				f, _ := n.Float64()
				v = f
			}
			out[k] = v
		}
	}
	raw, _ := json.Marshal(out)
	return string(raw)
}

func parseTime(t *testing.T, s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999Z"} {
		if p, err := time.Parse(layout, s); err == nil {
			return p
		}
	}
	t.Fatalf("not a time: %q", s)
	return time.Time{}
}

// A read against the fake gives, row for row, what run loads into
// Parquet for the same window: every stream, lineage included; every
// message valid against the protocol and each record against its stream's
// schema; a state for every stream, none before its records; RUNNING and
// COMPLETE for each. Read again from the states it emitted, it has
// nothing new; the secret appears nowhere.
func TestAirbyteReadEqualsRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	runEnv := map[string]string{"SALESNAV_PARQUET_DIR": out, "SALESNAV_START": connectorStart, "SALESNAV_END": connectorEnd,
		"SALESNAV_STREAMS": strings.Join(allStreams, ","), "SALESNAV_CRM_INSTANCES": fakeapi.DefaultCRMInstances[0], "SALESNAV_POLL_INTERVAL": "1ms"}
	if code, stdout, stderr := runCLI(t, runEnv, "run", "--fake-api", "--fake-now", connectorNow, "--fake-rows-per-day", strconv.Itoa(connectorRows)); code != ExitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	fake := connectorFake(t)
	cfg := connectorConfigFile(t, dir, fake.URL, nil)
	cat := configuredCatalog(t, filepath.Join(dir, "catalog.json"), false, allStreams...)
	code, stdout, stderr := runCLI(t, connectorEnv(), "airbyte", "read", "--config", cfg, "--catalog", cat, "--fake-now", connectorNow)
	if code != ExitOK || stderr != "" {
		t.Fatalf("read: exit %d, stderr:\n%s", code, stderr)
	}
	msgs, err := protocoltest.Airbyte([]byte(stdout), airbyteSchemas())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range allStreams {
		st, _ := schema.Lookup(name)
		var got, want []string
		for _, r := range msgs.RecordsOf(name) {
			got = append(got, canonical(t, st, r))
		}
		for _, row := range testkit.ReadDataset(t, out, name).Rows {
			var m map[string]any
			d := json.NewDecoder(strings.NewReader(row))
			d.UseNumber()
			if err := d.Decode(&m); err != nil {
				t.Fatal(err)
			}
			want = append(want, canonical(t, st, m))
		}
		sort.Strings(got)
		sort.Strings(want)
		if len(got) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: %d records, %d rows in Parquet; first record %v, first row %v", name, len(got), len(want), first(got), first(want))
		}
	}
	statuses := map[string][]string{}
	stated := map[string]int{}
	for _, m := range msgs.Messages {
		if tr, ok := m.Raw["trace"].(map[string]any); ok && tr["type"] == airbyte.TraceStreamStatus {
			ss := tr["stream_status"].(map[string]any)
			name := ss["stream_descriptor"].(map[string]any)["name"].(string)
			statuses[name] = append(statuses[name], ss["status"].(string))
		}
		if m.Type == airbyte.TypeState {
			stated[m.Raw["state"].(map[string]any)["stream"].(map[string]any)["stream_descriptor"].(map[string]any)["name"].(string)]++
		}
		if m.Type == airbyte.TypeTrace && m.Raw["trace"].(map[string]any)["type"] == airbyte.TraceError {
			t.Errorf("an error trace: %v", m.Raw)
		}
	}
	for _, name := range allStreams {
		if strings.Join(statuses[name], ",") != "STARTED,RUNNING,COMPLETE" || stated[name] == 0 {
			t.Errorf("%s: statuses %v, %d state messages", name, statuses[name], stated[name])
		}
	}
	if strings.Contains(stdout+stderr, fakeapi.DefaultToken) {
		t.Error("the access token appears in the output")
	}

	// Resumed from its states (Airbyte's array of them): nothing new.
	state := writeJSON(t, filepath.Join(dir, "state.json"), lastStates(t, msgs))
	incremental := configuredCatalog(t, filepath.Join(dir, "incremental.json"), false, allStreams[1:]...)
	code, stdout, stderr = runCLI(t, connectorEnv(), "airbyte", "read", "--config", cfg, "--catalog", incremental, "--state", state, "--fake-now", connectorNow)
	if code != ExitOK {
		t.Fatalf("resumed read: exit %d\n%s", code, stderr)
	}
	again, err := protocoltest.Airbyte([]byte(stdout), airbyteSchemas())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(again.Records); n != 0 {
		t.Errorf("the resumed read emitted %d records, first %v", n, again.Records[0])
	}
	if n := len(again.States); n != len(allStreams)-1 {
		t.Errorf("the resumed read emitted %d states, want one per stream", n)
	}
}

func first(xs []string) string {
	if len(xs) == 0 {
		return "(none)"
	}
	return xs[0]
}

// OAuth: check refreshes the member token and fetches the application's
// (client credentials) for the CRM streams; a wrong client secret fails
// both, each named; a read with OAuth reads.
func TestAirbyteOAuth(t *testing.T) {
	dir := t.TempDir()
	fake := connectorFake(t)
	env := connectorEnv()
	env["SALESNAV_TOKEN_URL"] = strings.TrimSuffix(fake.URL, "/v2") + "/oauth/v2/accessToken"
	oauth := func(secret string) func(map[string]any) {
		return func(c map[string]any) {
			c["credentials"] = map[string]any{"auth_type": "oauth2.0", "client_id": fakeapi.DefaultClientID,
				"client_secret": secret, "refresh_token": fakeapi.DefaultRefreshToken}
		}
	}
	good := connectorConfigFile(t, dir, fake.URL, oauth(fakeapi.DefaultClientSecret))
	code, stdout, _ := runCLI(t, env, "airbyte", "check", "--config", good, "--fake-now", connectorNow)
	if got := messageText(airbyteOut(t, stdout), "status"); code != ExitOK || got != "SUCCEEDED \n" {
		t.Errorf("OAuth check: exit %d, %q", code, got)
	}
	bad := connectorConfigFile(t, t.TempDir(), fake.URL, oauth("wrong-secret-51c"))
	_, stdout, stderr := runCLI(t, env, "airbyte", "check", "--config", bad, "--fake-now", connectorNow)
	got := messageText(airbyteOut(t, stdout), "status")
	if !strings.HasPrefix(got, "FAILED token: ") || !strings.Contains(got, "CRM scope: fetching an application token (client credentials)") ||
		strings.Contains(stdout+stderr, "wrong-secret-51c") {
		t.Errorf("wrong client secret: %q", got)
	}
	cat := configuredCatalog(t, filepath.Join(dir, "catalog.json"), false, "activity", "crm_validation")
	code, stdout, stderr = runCLI(t, env, "airbyte", "read", "--config", good, "--catalog", cat, "--fake-now", connectorNow)
	out := airbyteOut(t, stdout)
	if code != ExitOK || len(out.RecordsOf("activity")) == 0 || len(out.RecordsOf("crm_validation")) == 0 {
		t.Errorf("OAuth read: exit %d, %d activity and %d CRM records\n%s", code, len(out.RecordsOf("activity")), len(out.RecordsOf("crm_validation")), stderr)
	}
}
