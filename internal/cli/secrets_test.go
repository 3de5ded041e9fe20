package cli

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// Issue 7: no secret in any output, on the paths where errors are made:
// a ClickHouse run under chaos (retries, failed downloads and jobs, all
// logged), a wrong ClickHouse password, config check --connect with wrong
// credentials. Everything the runs print, log and write (summary, metrics
// file) is searched for the access token, the client secret, the refresh
// token, tokens the fake issued, URL signatures and DSN passwords.
func TestNoSecretsInAnyOutput(t *testing.T) {
	ch := chtest.Start(t)
	t.Cleanup(ch.Close)
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 40, Faults: fakeapi.Faults{Chaos: fakeapi.DefaultChaos(3)}})
	root := strings.TrimSuffix(fake.URL, "/v2")
	dir := t.TempDir()
	base := map[string]string{"SALESNAV_API_URL": fake.URL, "SALESNAV_TOKEN_URL": root + "/oauth/v2/accessToken",
		"SALESNAV_CLIENT_ID": fakeapi.DefaultClientID, "SALESNAV_CLIENT_SECRET": fakeapi.DefaultClientSecret,
		"SALESNAV_REFRESH_TOKEN": fakeapi.DefaultRefreshToken, "SALESNAV_SINK": "clickhouse", "SALESNAV_CLICKHOUSE_DSN": ch.DSN("secrets"),
		"SALESNAV_PARQUET_DIR": filepath.Join(dir, "out"), "SALESNAV_START": pipeline.Day(time.Now()).AddDate(0, 0, -4).Format(time.DateOnly),
		"SALESNAV_STREAMS":       "contracts,seat,activity,activity_outcome,crm_validation,profile_associations",
		"SALESNAV_CRM_INSTANCES": "urn:li:crmInstance:(SFDC,00D1)", "SALESNAV_POLL_INTERVAL": "5ms", "SALESNAV_RETRY_DELAY": "10ms",
		"SALESNAV_METRICS_FILE": filepath.Join(dir, "m.prom"), "SALESNAV_PROGRESS_INTERVAL": "1ms", "SALESNAV_LOG_LEVEL": "debug"}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	var all strings.Builder
	faults := 0
	for range 3 {
		began := time.Now()
		code, stdout, stderr := runCLI(t, base, "run", "--summary", filepath.Join(dir, "summary.json"))
		t.Logf("run: exit %d in %v", code, time.Since(began))
		all.WriteString(stdout + stderr)
		if code != ExitOK {
			faults++
		}
		for _, f := range []string{"summary.json", "m.prom"} {
			raw, _ := os.ReadFile(filepath.Join(dir, f))
			all.Write(raw)
		}
	}
	wrongPW := "Wr0ng-pw-" + "7c1e"
	badDSN := strings.Replace(ch.DSN("secrets"), chtest.Password, wrongPW, 1)
	began := time.Now()
	code, stdout, stderr := runCLI(t, with(map[string]string{"SALESNAV_CLICKHOUSE_DSN": badDSN}), "run")
	t.Logf("wrong password: exit %d in %v", code, time.Since(began))
	began = time.Now()
	all.WriteString(stdout + stderr)
	if code == ExitOK || !strings.Contains(stderr, "secrets") {
		t.Errorf("a wrong ClickHouse password: exit %d, and the error should name the DSN without its password:\n%s", code, stderr)
	}
	code, stdout, stderr = runCLI(t, with(map[string]string{"SALESNAV_CLICKHOUSE_DSN": badDSN, "SALESNAV_CLIENT_SECRET": "wrong-client-secret-9d",
		"SALESNAV_ACCESS_TOKEN": "static-token-5b1"}), "config", "check", "--connect")
	all.WriteString(stdout + stderr)
	t.Logf("config check: exit %d in %v", code, time.Since(began))
	if code == ExitOK {
		t.Errorf("config check --connect passed with wrong credentials")
	}
	out := all.String()
	if !strings.Contains(out, "download failed") && !strings.Contains(out, "retryable status") && faults == 0 {
		t.Error("no fault reached the output: the search proves little")
	}
	for _, secret := range []string{chtest.Password, wrongPW, fakeapi.DefaultClientSecret, "wrong-client-secret-9d", fakeapi.DefaultRefreshToken,
		"static-token-5b1", "fake-issued-", "sig="} {
		if strings.Contains(out, secret) {
			i := strings.Index(out, secret)
			t.Errorf("%q appears in the output: …%s…", secret, out[max(0, i-200):min(len(out), i+100)])
		}
	}
}

// Issue 17: every error path that carries a credentialed URL, driven
// through the command line, with all it prints searched for the secrets:
// a Pushgateway that refuses the push (its password in the URL), a token
// endpoint that redirects to another host (which must receive nothing), a
// token endpoint whose error echoes the client secret, a ClickHouse DSN
// and an S3 endpoint with passwords that cannot be reached, and a
// Pushgateway URL that is not valid. A panic's text is masked too.
func TestNoSecretOnCredentialedErrorPaths(t *testing.T) {
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 5})
	const (
		pgPW     = "pg-Pa55-3e9"
		chPW     = "ch-Pa55-77a"
		s3Secret = "s3-Secret-19c"
		cs       = "client-Secret-50d"
		rt       = "refresh-Tok-2b8"
	)
	thief := testkit.NewThief(t)
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, thief.URL+"/oauth/v2/accessToken", http.StatusTemporaryRedirect)
		default: // an endpoint that echoes what it was sent in its error
			_ = r.ParseForm()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"bad secret %s for refresh %s"}`, r.PostForm.Get("client_secret"), r.PostForm.Get("refresh_token"))
		}
	}))
	defer tokens.Close()
	// A stand-in, not Debian's Pushgateway: its refusal echoes the push URL
	// in the body, which the real gateway never does (its 401 is tested in
	// internal/metrics' TestPushRefusedHidesPassword), and this test runs
	// in the fast tier.
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no pushes today: "+r.URL.String(), http.StatusUnauthorized)
	}))
	defer refusing.Close()

	dir := t.TempDir()
	base := map[string]string{"SALESNAV_API_URL": fake.URL, "SALESNAV_ACCESS_TOKEN": fakeapi.DefaultToken, "SALESNAV_STREAMS": "contracts",
		"SALESNAV_PARQUET_DIR": filepath.Join(dir, "out"), "SALESNAV_LOG_LEVEL": "debug", "SALESNAV_METRICS_FILE": filepath.Join(dir, "m.prom")}
	oauth := map[string]string{"SALESNAV_ACCESS_TOKEN": "", "SALESNAV_CLIENT_ID": "cid", "SALESNAV_CLIENT_SECRET": cs, "SALESNAV_REFRESH_TOKEN": rt}
	var all strings.Builder
	for _, tc := range []struct {
		name     string
		env      []map[string]string
		args     []string
		wantCode int
		want     string
	}{
		{"pushgateway refuses", []map[string]string{{"SALESNAV_PUSHGATEWAY_URL": strings.Replace(refusing.URL, "://", "://ops:"+pgPW+"@", 1)}},
			[]string{"run", "--summary", filepath.Join(dir, "summary.json")}, ExitOK, "401"},
		{"token endpoint redirects away", []map[string]string{oauth, {"SALESNAV_TOKEN_URL": tokens.URL + "/redirect"}},
			[]string{"run"}, ExitFailure, "redirect refused"},
		{"token endpoint echoes the secret", []map[string]string{oauth, {"SALESNAV_TOKEN_URL": tokens.URL + "/token"}},
			[]string{"run"}, ExitFailure, "invalid_client"},
		{"clickhouse unreachable", []map[string]string{{"SALESNAV_SINK": "clickhouse", "SALESNAV_CLICKHOUSE_DSN": "clickhouse://etl:" + chPW + "@127.0.0.1:1/db"}},
			[]string{"run"}, ExitFailure, "127.0.0.1:1"},
		{"object storage unreachable", []map[string]string{{"SALESNAV_PARQUET_DIR": "s3://bucket/data", "SALESNAV_S3_ENDPOINT": "http://127.0.0.1:1",
			"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": s3Secret}}, []string{"run"}, ExitFailure, "bucket"},
		{"pushgateway URL invalid", []map[string]string{{"SALESNAV_PUSHGATEWAY_URL": "ftp://ops:" + pgPW + "@gw:9091"}},
			[]string{"run"}, ExitConfig, "SALESNAV_PUSHGATEWAY_URL"},
	} {
		env := maps.Clone(base)
		for _, e := range tc.env {
			maps.Copy(env, e)
		}
		code, stdout, stderr := runCLI(t, env, tc.args...)
		all.WriteString(stdout + stderr)
		for _, f := range []string{"summary.json", "m.prom"} {
			raw, _ := os.ReadFile(filepath.Join(dir, f))
			all.Write(raw)
		}
		if code != tc.wantCode || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d (want %d), and stderr should say %q:\n%s", tc.name, code, tc.wantCode, tc.want, stderr)
		}
	}
	var panicked bytes.Buffer
	func() {
		code := 0
		defer func() {
			if code != ExitFailure {
				t.Errorf("a panic: exit %d", code)
			}
		}()
		set := secretsOf(envconfig.MapLookuper(map[string]string{"SALESNAV_CLIENT_SECRET": cs}))
		defer recoverMasked(set, &panicked, &code)
		panic("boom with " + cs)
	}()
	all.Write(panicked.Bytes())
	if !strings.Contains(panicked.String(), "boom with xxxxx") {
		t.Errorf("a panic printed %q", panicked.String())
	}
	out := all.String()
	for _, s := range []string{pgPW, chPW, s3Secret, cs, rt} {
		if i := strings.Index(out, s); i >= 0 {
			t.Errorf("%q appears in the output: …%s…", s, out[max(0, i-200):min(len(out), i+100)])
		}
	}
	if stolen := thief.Received(); len(stolen) > 0 {
		t.Errorf("the other host received %q", stolen)
	}
}
