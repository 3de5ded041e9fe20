package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
)

// The README's getting-started, as written, against the fake: the shell
// lines run in sh (the env file written, sourced into the next commands'
// environment), the salesnav-etl lines in-process (auth login with
// --no-browser: the test plays the browser). The steps must be auth login,
// config check --connect and run; the run loads, and exports when the
// refresh token expires.
func TestGettingStartedWalk(t *testing.T) {
	lines := testkit.READMEShell(t, "Getting started")
	// The fake's clock is fixed; the run checks download URLs' expiry on
	// its own: URLs that outlive the test.
	fake := newAuthFake(t, fakeapi.Config{URLTTL: 100 * 365 * 24 * time.Hour})
	dir := t.TempDir()
	t.Chdir(dir)
	metricsFile := filepath.Join(dir, "metrics.prom")
	// Where LinkedIn would be, and a short window; the app's client id
	// and secret come from the README's env file.
	env := fake.env("SALESNAV_START", "2026-03-07", "SALESNAV_END", "2026-03-09", "SALESNAV_POLL_INTERVAL", "5ms",
		"SALESNAV_METRICS_FILE", metricsFile)
	delete(env, "SALESNAV_CLIENT_ID")
	delete(env, "SALESNAV_CLIENT_SECRET")
	var steps, script []string
	shell := func() {
		if len(script) > 0 {
			env = runShell(t, dir, env, strings.Join(script, "\n"))
			script = nil
		}
	}
	for _, line := range lines {
		rest, ok := strings.CutPrefix(line, "salesnav-etl ")
		if !ok {
			line = strings.NewReplacer("your-client-id", fakeapi.DefaultClientID, "your-client-secret", fakeapi.DefaultClientSecret).Replace(line)
			script = append(script, line)
			continue
		}
		shell()
		rest, _, _ = strings.Cut(rest, "#")
		args := strings.Fields(rest)
		steps = append(steps, strings.Join(args, " "))
		var code int
		var stdout, stderr string
		if slices.Equal(args, []string{"auth", "login"}) {
			r := startCLIAt(authNow, env, append(args, "--no-browser")...) // a test never opens a browser
			follow(t, r.authorizationURL(t))
			code, stdout, stderr = r.wait()
		} else {
			code, stdout, stderr = runCLIAt(authNow, env, args...)
		}
		if code != ExitOK {
			t.Fatalf("salesnav-etl %s: exit %d\n%s\n%s", rest, code, stdout, stderr)
		}
		noToken(t, stdout+stderr, env["SALESNAV_ACCESS_TOKEN"], env["SALESNAV_REFRESH_TOKEN"])
	}
	shell()
	if want := []string{"auth login", "config check --connect", "run"}; !slices.Equal(steps, want) {
		t.Errorf("the README's steps are %q, want %q", steps, want)
	}
	if len(testkit.ReadDataset(t, filepath.Join(dir, "out"), "activity").Rows) == 0 {
		t.Error("the run loaded no activity")
	}
	// The run learnt the refresh token's expiry from its refresh: the
	// consent (authNow) plus 365 days, exactly.
	if got, ok := gauge(t, metricsFile, "salesnav_etl_refresh_token_expiry_timestamp_seconds"); !ok || got != float64(authNow.AddDate(0, 0, 365).Unix()) {
		t.Errorf("refresh token expiry metric %v (exported %v), want %d", got, ok, authNow.AddDate(0, 0, 365).Unix())
	}
	// A run with the access token alone learns no expiry: no series.
	delete(env, "SALESNAV_REFRESH_TOKEN")
	if code, stdout, stderr := runCLIAt(authNow, env, "run"); code != ExitOK {
		t.Fatalf("run with the access token alone: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got, ok := gauge(t, metricsFile, "salesnav_etl_refresh_token_expiry_timestamp_seconds"); ok {
		t.Errorf("a run without a refresh token exported an expiry: %v", got)
	}
}

// runShell runs script in sh in dir with env (and PATH), and returns the
// SALESNAV_* variables of its environment at the end.
func runShell(t *testing.T, dir string, env map[string]string, script string) map[string]string {
	t.Helper()
	cmd := exec.Command("sh", "-c", script+"\necho ---env---\nenv")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\n%s\n%s", err, script, out)
	}
	_, dump, _ := strings.Cut(string(out), "---env---\n")
	next := map[string]string{}
	for _, line := range strings.Split(dump, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, envPrefix) {
			next[k] = v
		}
	}
	return next
}

// gauge reads a gauge without labels from a metrics file.
func gauge(t *testing.T, path, name string) (float64, bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatal(err)
	}
	fam, ok := fams[name]
	if !ok || len(fam.GetMetric()) != 1 {
		return 0, false
	}
	return fam.GetMetric()[0].GetGauge().GetValue(), true
}
