package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/connector/airbyte"
	"github.com/salesnav-etl/salesnav-etl/connector/protocoltest"
	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// messageText gathers the text of an output's messages of one kind: a
// connection status, error traces, log lines.
func messageText(out *protocoltest.Output, kind string) string {
	var b strings.Builder
	for _, m := range out.Messages {
		switch {
		case kind == "status" && m.Type == airbyte.TypeConnectionStatus:
			cs := m.Raw["connectionStatus"].(map[string]any)
			msg, _ := cs["message"].(string)
			b.WriteString(cs["status"].(string) + " " + msg + "\n")
		case kind == "error" && m.Type == airbyte.TypeTrace && m.Raw["trace"].(map[string]any)["type"] == airbyte.TraceError:
			e := m.Raw["trace"].(map[string]any)["error"].(map[string]any)
			b.WriteString(e["failure_type"].(string) + " " + e["message"].(string) + "\n")
		case kind == "log" && m.Type == airbyte.TypeLog:
			l := m.Raw["log"].(map[string]any)
			b.WriteString(l["level"].(string) + " " + l["message"].(string) + "\n")
		case kind == "analytics" && m.Type == airbyte.TypeTrace && m.Raw["trace"].(map[string]any)["type"] == airbyte.TraceAnalytics:
			a := m.Raw["trace"].(map[string]any)["analytics"].(map[string]any)
			b.WriteString(a["type"].(string) + " " + a["value"].(string) + "\n")
		}
	}
	return b.String()
}

func airbyteOut(t *testing.T, stdout string) *protocoltest.Output {
	t.Helper()
	out, err := protocoltest.Airbyte([]byte(stdout), airbyteSchemas())
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	return out
}

// spec needs nothing; the image's entrypoint runs it without "airbyte".
func TestAirbyteSpec(t *testing.T) {
	code, stdout, stderr := runCLI(t, nil, "airbyte", "spec")
	if code != ExitOK || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out := airbyteOut(t, stdout)
	if len(out.Messages) != 1 || out.Messages[0].Type != airbyte.TypeSpec {
		t.Fatalf("messages %v", out.Messages)
	}
	_, top, _ := runCLI(t, nil, "spec")
	if top != stdout {
		t.Error("spec at the top differs from airbyte spec")
	}
}

// check: SUCCEEDED with the fake's token; FAILED naming what failed with
// a wrong one (exit 0 both: the protocol's answer), and naming every
// field of a bad configuration, whose secrets never show.
func TestAirbyteCheck(t *testing.T) {
	dir := t.TempDir()
	fake := connectorFake(t)
	good := connectorConfigFile(t, dir, fake.URL, nil)
	code, stdout, _ := runCLI(t, connectorEnv(), "airbyte", "check", "--config", good, "--fake-now", connectorNow)
	if got := messageText(airbyteOut(t, stdout), "status"); code != ExitOK || got != "SUCCEEDED \n" {
		t.Errorf("good token: exit %d, %q", code, got)
	}
	bad := connectorConfigFile(t, t.TempDir(), fake.URL, func(c map[string]any) {
		c["credentials"] = map[string]any{"auth_type": "access_token", "access_token": "wrong-token-7f3a"}
	})
	code, stdout, stderr := runCLI(t, connectorEnv(), "check", "--config", bad, "--fake-now", connectorNow)
	got := messageText(airbyteOut(t, stdout), "status")
	if code != ExitOK || !strings.HasPrefix(got, "FAILED token: listing contracts") || !strings.Contains(got, "HTTP 401") ||
		!strings.Contains(got, "CRM scope") {
		t.Errorf("bad token: exit %d, %q", code, got)
	}
	if strings.Contains(stdout+stderr, "wrong-token-7f3a") {
		t.Error("the token appears in the output")
	}
	worse := writeJSON(t, filepath.Join(dir, "worse.json"), map[string]any{"credentials": map[string]any{"auth_type": "oauth2.0", "client_secret": "s3cret-ab"},
		"start_date": "2026-13-01", "streams": []string{"bogus"}, "lookback_days": -1})
	code, stdout, stderr = runCLI(t, nil, "airbyte", "check", "--config", worse)
	got = messageText(airbyteOut(t, stdout), "status")
	for _, field := range []string{"credentials.client_id", "credentials.refresh_token", "start_date", "streams[0]", "lookback_days"} {
		if !strings.Contains(got, "--config "+worse+": "+field) {
			t.Errorf("the FAILED message does not name %s: %s", field, got)
		}
	}
	if code != ExitOK || strings.Contains(stdout+stderr, "s3cret-ab") {
		t.Errorf("bad configuration: exit %d, or the secret shows", code)
	}
}

// discover lists the configuration's streams; a bad configuration is a
// config_error trace and exit 2.
func TestAirbyteDiscover(t *testing.T) {
	dir := t.TempDir()
	// The real clock: dates it cannot be before.
	cfg := connectorConfigFile(t, dir, "https://api.linkedin.com/v2", func(c map[string]any) {
		delete(c, "streams")
		delete(c, "end_date")
		c["start_date"] = "2020-01-01"
	})
	code, stdout, _ := runCLI(t, nil, "airbyte", "discover", "--config", cfg)
	out := airbyteOut(t, stdout)
	if code != ExitOK || len(out.Of(airbyte.TypeCatalog)) != 1 {
		t.Fatalf("exit %d: %s", code, stdout)
	}
	var names []string
	for _, s := range out.Of(airbyte.TypeCatalog)[0].Raw["catalog"].(map[string]any)["streams"].([]any) {
		names = append(names, s.(map[string]any)["name"].(string))
	}
	if !slices.Equal(names, []string{"contracts", "seat", "activity", "activity_outcome"}) {
		t.Errorf("streams %v: want the default streams", names)
	}
	bad := writeJSON(t, filepath.Join(dir, "bad.json"), map[string]any{"start_date": "2026-02-01"})
	code, stdout, _ = runCLI(t, nil, "airbyte", "discover", "--config", bad)
	if got := messageText(airbyteOut(t, stdout), "error"); code != ExitConfig || !strings.HasPrefix(got, "config_error ") || !strings.Contains(got, "credentials: required") {
		t.Errorf("bad configuration: exit %d, %q", code, got)
	}
}

// read with a token the API refuses: a config_error trace, every stream
// INCOMPLETE, a non-zero exit; a catalog or state that is not one: a
// config_error naming the flag.
func TestAirbyteReadFailures(t *testing.T) {
	dir := t.TempDir()
	fake := connectorFake(t)
	cfg := connectorConfigFile(t, dir, fake.URL, func(c map[string]any) {
		c["credentials"] = map[string]any{"auth_type": "access_token", "access_token": "wrong-token-7f3a"}
	})
	cat := configuredCatalog(t, filepath.Join(dir, "catalog.json"), false, "activity")
	code, stdout, _ := runCLI(t, connectorEnv(), "airbyte", "read", "--config", cfg, "--catalog", cat, "--fake-now", connectorNow)
	out := airbyteOut(t, stdout)
	if got := messageText(out, "error"); code == ExitOK || !strings.HasPrefix(got, "config_error the API refused the configuration's credentials") {
		t.Errorf("exit %d, errors %q", code, got)
	}
	if !strings.Contains(stdout, `"status":"INCOMPLETE"`) || len(out.Records) != 0 {
		t.Error("the stream is not INCOMPLETE, or records came out")
	}
	for _, tc := range []struct{ flag, content, want string }{
		{"--catalog", `{"streams":[{"stream":{"name":"bogus"}}]}`, `--catalog`},
		{"--state", `[{"type":"GLOBAL"}]`, "--state"},
	} {
		path := filepath.Join(dir, "input.json")
		writeJSON(t, path, json.RawMessage(tc.content))
		args := []string{"read", "--config", cfg, "--catalog", cat, "--fake-now", connectorNow}
		if tc.flag == "--catalog" {
			args[4] = path
		} else {
			args = append(args, "--state", path)
		}
		code, stdout, _ := runCLI(t, connectorEnv(), args...)
		if got := messageText(airbyteOut(t, stdout), "error"); code != ExitConfig || !strings.Contains(got, tc.want+" "+path) {
			t.Errorf("%s: exit %d, %q", tc.flag, code, got)
		}
	}
}

// Rejected rows are never records: counted in a LOG line and a
// rejected_rows trace; a window over max_reject_ratio is not read.
func TestAirbyteRejects(t *testing.T) {
	dir := t.TempDir()
	fake := connectorFake(t)
	fake.Mangle = func(b []byte) []byte {
		if !testkit.IsActivityFile(b) {
			return b
		}
		return bytes.Replace(b, []byte(",INMAIL_SENT,"), []byte(",INMAIL_SEND,"), 3)
	}
	cfg := connectorConfigFile(t, dir, fake.URL, func(c map[string]any) { c["max_reject_ratio"] = 0.5; c["streams"] = []string{"activity"} })
	cat := configuredCatalog(t, filepath.Join(dir, "catalog.json"), false, "activity")
	code, stdout, _ := runCLI(t, connectorEnv(), "airbyte", "read", "--config", cfg, "--catalog", cat, "--fake-now", connectorNow)
	out := airbyteOut(t, stdout)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, messageText(out, "error"))
	}
	windows := 2 // contracts with reporting access, one window each
	ids := fake.ActivityIDs([]string{"urn:li:salesContract:1001", "urn:li:salesContract:1002"}, testkit.Date(connectorStart), testkit.Date(connectorEnd))
	if got, want := len(out.RecordsOf("activity")), len(ids)-3*windows; got != want {
		t.Errorf("%d records, want %d (the fake's rows less the rejected)", got, want)
	}
	for _, r := range out.RecordsOf("activity") {
		if r["activityType"] == "INMAIL_SEND" {
			t.Fatal("a rejected row came out as a record")
		}
	}
	if got := messageText(out, "analytics"); got != "rejected_rows activity:6\n" {
		t.Errorf("analytics %q", got)
	}
	if got := messageText(out, "log"); !strings.Contains(got, "WARN msg=\"activity: 6 row(s) rejected, never sent as records: 6 activityType (not one of") {
		t.Errorf("no WARN line counts the rejects:\n%s", got)
	}
	// Over the ratio (0 by default): the windows are not read; the stream
	// is incomplete, the exit non-zero.
	strict := connectorConfigFile(t, t.TempDir(), fake.URL, func(c map[string]any) { c["streams"] = []string{"activity"} })
	code, stdout, _ = runCLI(t, connectorEnv(), "airbyte", "read", "--config", strict, "--catalog", cat, "--fake-now", connectorNow)
	out = airbyteOut(t, stdout)
	if code == ExitOK || len(out.Records) != 0 || !strings.Contains(messageText(out, "error"), "too many rejected rows") {
		t.Errorf("over the ratio: exit %d, %d records, errors %q", code, len(out.Records), messageText(out, "error"))
	}
}

// full_refresh reads from start_date, whatever the state says.
func TestAirbyteFullRefresh(t *testing.T) {
	dir := t.TempDir()
	fake := connectorFake(t)
	cfg := connectorConfigFile(t, dir, fake.URL, nil)
	state := writeJSON(t, filepath.Join(dir, "state.json"), []any{map[string]any{"type": "STREAM", "stream": map[string]any{
		"stream_descriptor": map[string]any{"name": "activity"},
		"stream_state": map[string]any{"version": 1, "cursors": map[string]any{
			"urn:li:salesContract:1001": connectorEnd, "urn:li:salesContract:1002": connectorEnd}}}}})
	for _, tc := range []struct {
		full  bool
		start string
	}{{true, connectorStart}, {false, ""}} {
		cat := configuredCatalog(t, filepath.Join(dir, "catalog.json"), tc.full, "activity")
		code, stdout, stderr := runCLI(t, connectorEnv(), "airbyte", "read", "--config", cfg, "--catalog", cat, "--state", state, "--fake-now", connectorNow)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		recs := airbyteOut(t, stdout).RecordsOf("activity")
		earliest := ""
		for _, r := range recs {
			if s := r["_window_start"].(string)[:10]; earliest == "" || s < earliest {
				earliest = s
			}
		}
		if earliest != tc.start {
			t.Errorf("full refresh %v: %d records, the earliest window starts %q, want %q", tc.full, len(recs), earliest, tc.start)
		}
	}
}

// The Singer tap: discovery's catalog selects the configuration's
// streams; a catalog selecting some syncs only those, SCHEMA before each
// stream's records; its last STATE, passed back, syncs nothing new; a
// refused token is a clear error and a non-zero exit.
func TestSingerTap(t *testing.T) {
	dir := t.TempDir()
	fake := connectorFake(t)
	cfg := connectorConfigFile(t, dir, fake.URL, nil)
	code, stdout, _ := runCLI(t, nil, "singer", "--config", cfg, "--discover")
	if code != ExitOK {
		t.Fatalf("discover: exit %d", code)
	}
	if err := protocoltest.Validate("SingerCatalog", []byte(stdout)); err != nil {
		t.Fatal(err)
	}
	var cat map[string]any
	_ = json.Unmarshal([]byte(stdout), &cat)
	for _, s := range cat["streams"].([]any) {
		s := s.(map[string]any)
		top := s["metadata"].([]any)[0].(map[string]any)["metadata"].(map[string]any)
		top["selected"] = s["tap_stream_id"] == "seat" || s["tap_stream_id"] == "activity"
	}
	catPath := writeJSON(t, filepath.Join(dir, "catalog.json"), cat)
	code, stdout, stderr := runCLI(t, connectorEnv(), "singer", "--config", cfg, "--catalog", catPath, "--fake-now", connectorNow)
	if code != ExitOK {
		t.Fatalf("sync: exit %d\n%s", code, stderr)
	}
	out, err := protocoltest.Singer([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	var streams []string
	for _, m := range out.Of("SCHEMA") {
		streams = append(streams, m.Raw["stream"].(string))
	}
	if !slices.Equal(streams, []string{"seat", "activity"}) || len(out.RecordsOf("seat")) == 0 || len(out.RecordsOf("activity")) == 0 ||
		len(out.Records) != len(out.RecordsOf("seat"))+len(out.RecordsOf("activity")) {
		t.Errorf("SCHEMA of %v, %d records", streams, len(out.Records))
	}
	if strings.Contains(stdout, `"level"`) || !strings.Contains(stderr, `"msg":"run finished"`) {
		t.Error("logs are not on standard error alone")
	}
	last := out.States[len(out.States)-1].Value
	state := filepath.Join(dir, "state.json")
	writeJSON(t, state, json.RawMessage(last))
	// As Meltano runs it: the program named tap-salesnav, --properties.
	code, stdout, _ = runCLI(t, connectorEnv(), commandArgs([]string{"/usr/bin/tap-salesnav", "--config", cfg, "--properties", catPath, "--state", state, "--fake-now", connectorNow})...)
	again, err := protocoltest.Singer([]byte(stdout))
	if code != ExitOK || err != nil || len(again.Records) != 0 {
		t.Errorf("resumed: exit %d, %v, %d records", code, err, len(again.Records))
	}
	bad := connectorConfigFile(t, t.TempDir(), fake.URL, func(c map[string]any) {
		c["credentials"] = map[string]any{"auth_type": "access_token", "access_token": "wrong-token-7f3a"}
	})
	code, stdout, stderr = runCLI(t, connectorEnv(), "singer", "--config", bad, "--fake-now", connectorNow)
	if code == ExitOK || !strings.Contains(stderr, "salesnav-etl: the API refused the credentials of --config (credentials)") || strings.Contains(stdout+stderr, "wrong-token-7f3a") {
		t.Errorf("refused token: exit %d\n%s", code, stderr)
	}
}

// --fake-now is for a fake API on loopback only.
func TestConnectorFakeNowNeedsLoopback(t *testing.T) {
	cfg := connectorConfigFile(t, t.TempDir(), "https://api.linkedin.com/v2", nil)
	code, _, stderr := runCLI(t, nil, "singer", "--config", cfg, "--fake-now", connectorNow)
	if code != ExitConfig || !strings.Contains(stderr, "--fake-now needs api_url on loopback") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestCommandArgs(t *testing.T) {
	for _, tc := range []struct{ argv, want []string }{
		{[]string{"salesnav-etl", "run"}, []string{"run"}},
		{[]string{"/usr/local/bin/tap-salesnav", "--config", "c.json"}, []string{"singer", "--config", "c.json"}},
		{[]string{`C:\bin\tap-salesnav.exe`, "--discover"}, []string{"singer", "--discover"}},
		{nil, nil},
	} {
		if got := commandArgs(tc.argv); !slices.Equal(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.argv, got, tc.want)
		}
	}
}

// docs/integrations.md documents every field of the configuration and
// every stream of the catalog, with its modes, cursor and key as
// discovered.
func TestIntegrationsDoc(t *testing.T) {
	raw, err := os.ReadFile("../../docs/integrations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for field := range connector.ConfigSchema()["properties"].(map[string]any) {
		if !strings.Contains(doc, "| `"+field+"` |") {
			t.Errorf("the configuration table lacks %s", field)
		}
	}
	for _, s := range airbyte.CatalogOf(schema.All()).Streams {
		var key []string
		for _, k := range s.SourceDefinedPrimaryKey {
			key = append(key, "`"+k[0]+"`")
		}
		cursor := "—"
		if len(s.DefaultCursorField) > 0 {
			cursor = "`" + s.DefaultCursorField[0] + "`"
		}
		row := fmt.Sprintf("| `%s` | %s | %s | %s |", s.Name, strings.Join(s.SupportedSyncModes, ", "), cursor, strings.Join(key, ", "))
		if !strings.Contains(doc, row) {
			t.Errorf("the streams table lacks the row %s", row)
		}
	}
}

// The configuration's secrets are masked in all output, even where a
// server echoes them: an API that answers 401 quoting the bearer token it
// was sent. The Airbyte check and read, and the Singer sync, each print
// that answer; none shows the token.
func TestConnectorSecretsMasked(t *testing.T) {
	const token = "echoed-t0ken-\"quoted\"-9b2"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"status": 401, "message": "token " + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + " is invalid"})
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := connectorConfigFile(t, dir, srv.URL+"/v2", func(c map[string]any) {
		c["credentials"] = map[string]any{"auth_type": "access_token", "access_token": token}
		c["streams"] = []string{"contracts"}
	})
	cat := configuredCatalog(t, filepath.Join(dir, "catalog.json"), false, "contracts")
	for _, args := range [][]string{
		{"airbyte", "check", "--config", cfg, "--fake-now", connectorNow},
		{"airbyte", "read", "--config", cfg, "--catalog", cat, "--fake-now", connectorNow},
		{"singer", "--config", cfg, "--fake-now", connectorNow},
	} {
		_, stdout, stderr := runCLI(t, connectorEnv(), args...)
		if !strings.Contains(stdout+stderr, "token xxxxx is invalid") {
			t.Errorf("%s: the server's answer is not in the output, masked:\n%s\n%s", args[:2], stdout, stderr)
		}
		for _, form := range []string{token, `echoed-t0ken-\"quoted\"-9b2`, "echoed-t0ken"} {
			if strings.Contains(stdout+stderr, form) {
				t.Errorf("%s: the token shows as %s", args[:2], form)
			}
		}
	}
}

// A sync's exit code is run's, but LinkedIn's late data alone is no
// failure; refused credentials are named.
func TestConnectorOutcome(t *testing.T) {
	reset := time.Date(2026, 2, 12, 0, 0, 0, 0, time.UTC)
	refused := fmt.Errorf("listing contracts: %w", &extract.APIError{Op: "getContracts", StatusCode: 401})
	for _, tc := range []struct {
		name string
		sum  *pipeline.Summary
		err  error
		code int
		msg  string
	}{
		{"complete", &pipeline.Summary{Status: pipeline.StatusComplete}, nil, ExitOK, ""},
		{"deferred only", &pipeline.Summary{Status: pipeline.StatusTemporary, Deferred: []pipeline.UnitError{{Stream: "activity"}}}, nil, ExitOK, ""},
		{"quota", &pipeline.Summary{Status: pipeline.StatusTemporary, QuotaResetAt: &reset}, extract.ErrQuotaExhausted, ExitTemporary, "quota"},
		{"stopped", &pipeline.Summary{Status: pipeline.StatusTemporary, Stopped: true}, nil, ExitTemporary, "stopped"},
		{"partial", &pipeline.Summary{Status: pipeline.StatusPartial, Errors: []pipeline.UnitError{{Error: "x"}}}, nil, ExitPartial, "partial"},
		{"refused", &pipeline.Summary{Status: pipeline.StatusFailed, Errors: []pipeline.UnitError{{Error: refused.Error()}}}, refused, ExitFailure,
			"the API refused the credentials of --config (credentials): listing contracts"},
	} {
		code, err := connectorOutcome(tc.sum, tc.err)
		if code != tc.code || (tc.msg == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.msg)) {
			t.Errorf("%s: exit %d, %v; want %d, %q", tc.name, code, err, tc.code, tc.msg)
		}
	}
}
