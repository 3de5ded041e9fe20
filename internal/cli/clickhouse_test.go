package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
)

// clickhouseClient runs Debian's clickhouse-client against the server.
func clickhouseClient(t *testing.T, s *chtest.Server, query string) string {
	t.Helper()
	out, err := exec.Command("clickhouse-client", "--host", "127.0.0.1", "--port", strconv.Itoa(s.Port),
		"--user", chtest.User, "--password", chtest.Password, "--query", query).CombinedOutput()
	if err != nil {
		t.Fatalf("clickhouse-client %q: %v\n%s", query, err, out)
	}
	return strings.TrimSpace(string(out))
}

// The acceptance: SALESNAV_SINK=clickhouse fills every stream's
// table, and clickhouse-client shows the activity count DuckDB reads from
// the Parquet sink for the same window; a re-run duplicates nothing.
func TestClickHouseSinkMatchesParquetThroughTheirOwnClients(t *testing.T) {
	s := chtest.Start(t)
	defer s.Close()
	dir := t.TempDir()
	// Every stream of the API (issue 5's acceptance), CRM data from the
	// fake's two default instances.
	window := map[string]string{"SALESNAV_START": "2026-02-01", "SALESNAV_END": "2026-02-15",
		"SALESNAV_STREAMS": "contracts,seat,activity,activity_outcome,crm_validation,profile_associations"}
	chEnv := map[string]string{"SALESNAV_SINK": "clickhouse", "SALESNAV_CLICKHOUSE_DSN": s.DSN("analytics"),
		"SALESNAV_PARQUET_DIR": filepath.Join(dir, "unused")}
	pqEnv := map[string]string{"SALESNAV_PARQUET_DIR": filepath.Join(dir, "out")}
	for k, v := range window {
		chEnv[k], pqEnv[k] = v, v
	}
	for i := range 2 {
		code, stdout, stderr := runCLI(t, chEnv, "run", "--fake-api")
		if code != ExitOK {
			t.Fatalf("clickhouse run %d: exit %d\n%s\n%s", i, code, stdout, stderr)
		}
		if strings.Contains(stderr, chtest.Password) {
			t.Fatal("the DSN password appears in the logs")
		}
	}
	if code, stdout, stderr := runCLI(t, pqEnv, "run", "--fake-api"); code != ExitOK {
		t.Fatalf("parquet run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "unused", "_state.json")); !os.IsNotExist(err) {
		t.Error("the ClickHouse sink wrote a state file: its state belongs in ClickHouse")
	}
	for _, st := range []string{"seat", "activity", "activity_outcome"} {
		ch := clickhouseClient(t, s, "SELECT count() FROM analytics."+st+"_final")
		raw := clickhouseClient(t, s, "SELECT count() FROM analytics."+st+" FINAL")
		pq := len(testkit.ReadDataset(t, filepath.Join(dir, "out"), st).Rows)
		if ch != strconv.Itoa(pq) || raw != ch || ch == "0" {
			t.Errorf("%s: ClickHouse view %s, FINAL %s, Parquet %d", st, ch, raw, pq)
		}
	}
	// CRM validation records loaded once each (a minute that turns between
	// the runs may legitimately add a record, never a duplicate), one
	// profile association per record, the three contracts.
	crm := clickhouseClient(t, s, "SELECT count() FROM analytics.crm_validation_final")
	crmDistinct := clickhouseClient(t, s, "SELECT count(DISTINCT _crm_instance, recordId) FROM analytics.crm_validation_final")
	assoc := clickhouseClient(t, s, "SELECT count() FROM analytics.profile_associations_final")
	assocRaw := clickhouseClient(t, s, "SELECT count() FROM analytics.profile_associations FINAL")
	if n, _ := strconv.Atoi(crm); n < 1000 || crm != crmDistinct || assoc != crm || assocRaw != assoc {
		t.Errorf("ClickHouse: %s CRM rows (%s distinct records), %s profile associations (%s FINAL)", crm, crmDistinct, assoc, assocRaw)
	}
	if n := clickhouseClient(t, s, "SELECT count() FROM analytics.contracts_final"); n != "3" {
		t.Errorf("ClickHouse: %s contracts, want 3", n)
	}
	pqCRM := testkit.ReadDataset(t, filepath.Join(dir, "out"), "crm_validation")
	records := map[string]bool{}
	for _, row := range pqCRM.Rows {
		var m map[string]any
		json.Unmarshal([]byte(row), &m)
		records[fmt.Sprint(m["_crm_instance"], m["recordId"])] = true
	}
	pqAssoc := testkit.ReadDataset(t, filepath.Join(dir, "out"), "profile_associations")
	if len(pqCRM.Rows) < 1000 || len(records) != len(pqCRM.Rows) || len(pqAssoc.Rows) != len(records) {
		t.Errorf("Parquet: %d CRM rows (%d distinct records), %d profile associations", len(pqCRM.Rows), len(records), len(pqAssoc.Rows))
	}
	if n := len(testkit.ReadDataset(t, filepath.Join(dir, "out"), "contracts").Rows); n != 3 {
		t.Errorf("Parquet: %d contracts, want 3", n)
	}
	t.Logf("per dataset (ClickHouse): crm_validation %s, profile_associations %s", crm, assoc)
	t.Run("duckdb", func(t *testing.T) {
		res := testkit.DuckDB(t, "SELECT count(*) AS n FROM read_parquet('"+filepath.ToSlash(filepath.Join(dir, "out"))+"/activity/**/*.parquet')")
		if ch := clickhouseClient(t, s, "SELECT count() FROM analytics.activity_final"); res[0][0]["n"] != ch {
			t.Errorf("DuckDB reads %v activity rows from Parquet, clickhouse-client %s from ClickHouse", res[0][0]["n"], ch)
		}
	})
	if st := clickhouseClient(t, s, "SELECT count() FROM analytics._salesnav_state FINAL"); st != "10" {
		t.Errorf("%s cursors in ClickHouse, want 3 streams × 2 contracts, and 2 CRM instances × (crm_validation, the profile_associations watermark)", st)
	}
	// The README's queries for analysts run and return rows.
	for _, q := range testkit.READMEQueries(t) {
		if out := clickhouseClient(t, s, strings.ReplaceAll(q, "salesnav.", "analytics.")); out == "" {
			t.Errorf("README query returned nothing:\n%s", q)
		}
	}
}

func TestClickHouseWrongPasswordExits1(t *testing.T) {
	s := chtest.Start(t)
	defer s.Close()
	dsn := strings.Replace(s.DSN("analytics"), chtest.Password, "wrong-pw", 1)
	code, _, stderr := runCLI(t, map[string]string{"SALESNAV_SINK": "clickhouse", "SALESNAV_CLICKHOUSE_DSN": dsn,
		"SALESNAV_START": "2026-02-01", "SALESNAV_END": "2026-02-02"}, "run", "--fake-api")
	if code != ExitFailure || strings.Contains(stderr, "wrong-pw") || !strings.Contains(stderr, "etl:xxxxx@"+s.Addr()+"/analytics") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	// A DSN that is not a ClickHouse native DSN is a configuration error.
	code, _, stderr = runCLI(t, map[string]string{"SALESNAV_SINK": "clickhouse", "SALESNAV_CLICKHOUSE_DSN": "http://etl:pw@127.0.0.1:8123/x"}, "run", "--fake-api")
	if code != ExitConfig || !strings.Contains(stderr, "SALESNAV_CLICKHOUSE_DSN") || strings.Contains(stderr, ":pw@") {
		t.Fatalf("http DSN: exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, map[string]string{"SALESNAV_SINK": "clickhouse"}, "run", "--fake-api")
	if code != ExitConfig || !strings.Contains(stderr, "SALESNAV_CLICKHOUSE_DSN: not set") {
		t.Fatalf("no DSN: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestSchemaCommandPrintsDDL(t *testing.T) {
	code, stdout, stderr := runCLI(t, map[string]string{"SALESNAV_CLICKHOUSE_DSN": "clickhouse://u:p@h:9000/crm"}, "schema", "--ddl", "clickhouse")
	if code != ExitOK || !strings.Contains(stdout, "CREATE TABLE IF NOT EXISTS `crm`.`activity`") ||
		!strings.Contains(stdout, "CREATE VIEW IF NOT EXISTS `crm`.`activity_final`") || !strings.Contains(stdout, "`_salesnav_state`") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, _ := runCLI(t, nil, "schema", "--ddl", "postgres"); code != ExitConfig {
		t.Errorf("unknown dialect: exit %d", code)
	}
}
