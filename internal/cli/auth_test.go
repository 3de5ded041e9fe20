package cli

// auth login and auth status against the fake API: the command runs
// in-process with --no-browser; the test reads the URL line from stdout
// and plays the browser with an http.Client, which follows the fake's
// redirect to the callback.

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
	"sigs.k8s.io/yaml"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
)

// authNow is the time of the auth tests, on the fake's clock and the
// command's.
var authNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// authFake is a fake API whose clock the test sets, with a redirect URL
// on a free loopback port registered.
type authFake struct {
	*testkit.Fake
	redirect string
	mu       sync.Mutex
	now      time.Time
}

func newAuthFake(t *testing.T, cfg fakeapi.Config) *authFake {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &authFake{redirect: "http://" + ln.Addr().String() + "/callback", now: authNow}
	ln.Close()
	cfg.Now, cfg.RedirectURLs = a.clock, []string{a.redirect}
	if cfg.RowsPerDay == 0 {
		cfg.RowsPerDay = 20
	}
	a.Fake = testkit.NewFake(t, cfg)
	return a
}

func (a *authFake) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

func (a *authFake) set(t time.Time) {
	a.mu.Lock()
	a.now = t
	a.mu.Unlock()
}

// env is the configuration of the LinkedIn app of the fake.
func (a *authFake) env(kv ...string) map[string]string {
	root := strings.TrimSuffix(a.URL, "/v2")
	env := map[string]string{"SALESNAV_API_URL": a.URL, "SALESNAV_AUTH_URL": root + "/oauth/v2/authorization",
		"SALESNAV_TOKEN_URL": root + "/oauth/v2/accessToken", "SALESNAV_REDIRECT_URL": a.redirect,
		"SALESNAV_CLIENT_ID": fakeapi.DefaultClientID, "SALESNAV_CLIENT_SECRET": fakeapi.DefaultClientSecret, "SALESNAV_LOG_FORMAT": "json"}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// lineWriter is a command's stdout: it keeps everything and hands the
// first line over as soon as it is written.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	first chan string
	once  sync.Once
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if line, _, ok := strings.Cut(w.buf.String(), "\n"); ok {
		w.once.Do(func() { w.first <- line })
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// cliRun is a command running in the background.
type cliRun struct {
	stdout *lineWriter
	stderr *lineWriter
	done   chan int
}

// startCLIAt runs the command in the background, its clock at now.
func startCLIAt(now time.Time, env map[string]string, args ...string) *cliRun {
	r := &cliRun{stdout: &lineWriter{first: make(chan string, 1)}, stderr: &lineWriter{first: make(chan string, 1)}, done: make(chan int, 1)}
	ctx := withClock(context.Background(), func() time.Time { return now })
	go func() { r.done <- execute(ctx, nil, args, envconfig.MapLookuper(env), r.stdout, r.stderr) }()
	return r
}

// runCLIAt runs the command to its end, its clock at now.
func runCLIAt(now time.Time, env map[string]string, args ...string) (int, string, string) {
	r := startCLIAt(now, env, args...)
	code := <-r.done
	return code, r.stdout.String(), r.stderr.String()
}

// authorizationURL waits for the URL line of auth login --no-browser.
func (r *cliRun) authorizationURL(t *testing.T) string {
	t.Helper()
	select {
	case line := <-r.stdout.first:
		return line
	case code := <-r.done:
		t.Fatalf("auth login ended (exit %d) before printing the URL:\n%s\n%s", code, r.stdout.String(), r.stderr.String())
	}
	return ""
}

// wait returns the exit code, stdout and stderr.
func (r *cliRun) wait() (int, string, string) {
	code := <-r.done
	return code, r.stdout.String(), r.stderr.String()
}

// follow plays the browser: it opens u and follows the redirects (to the
// callback), returning the last answer's status and page.
func follow(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(page)
}

// login runs auth login --no-browser to its end, playing the browser.
func login(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	r := startCLIAt(authNow, env, append([]string{"auth", "login", "--no-browser"}, args...)...)
	if status, page := follow(t, r.authorizationURL(t)); status != http.StatusOK || !strings.Contains(page, "Signed in") {
		t.Errorf("the browser got %d: %s", status, page)
	}
	return r.wait()
}

// readEnvFile sources an env file with sh, as a user would, and returns
// its variables.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `set -a; . "$1"; env`, "sh", path).Output()
	if err != nil {
		t.Fatalf("sourcing %s: %v", path, err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "SALESNAV_") {
			vars[k] = v
		}
	}
	return vars
}

// noToken fails the test when a token, or the mask that would have hidden
// one, is in out.
func noToken(t *testing.T, out string, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		if tok != "" && strings.Contains(out, tok) {
			t.Errorf("a token is in the output:\n%s", out)
		}
	}
	if strings.Contains(out, "xxxxx") {
		t.Errorf("the output tried to show a secret (masked):\n%s", out)
	}
}

func TestAuthLoginWritesTheEnvFile(t *testing.T) {
	fake := newAuthFake(t, fakeapi.Config{})
	path := filepath.Join(t.TempDir(), "salesnav.env")
	os.WriteFile(path, []byte("# the app\nSALESNAV_CLIENT_ID=fake-client\nSALESNAV_ACCESS_TOKEN=old-access\n"), 0o644)
	code, stdout, stderr := login(t, fake.env(), "--env-file", path)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	st, _ := os.Stat(path)
	raw, _ := os.ReadFile(path)
	if st.Mode().Perm() != 0o600 || !strings.HasPrefix(string(raw), "# the app\nSALESNAV_CLIENT_ID=fake-client\nSALESNAV_ACCESS_TOKEN=fake-issued-") {
		t.Errorf("env file (mode %v):\n%s", st.Mode().Perm(), raw)
	}
	vars := readEnvFile(t, path)
	access, refresh := vars["SALESNAV_ACCESS_TOKEN"], vars["SALESNAV_REFRESH_TOKEN"]
	if !strings.HasPrefix(access, "fake-issued-") || !strings.HasPrefix(refresh, "fake-refresh-") || len(vars) != 3 {
		t.Fatalf("env file variables %v", vars)
	}
	// stdout is the URL line alone; the terminal and the log get the
	// expiries, never the tokens.
	if lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], strings.TrimSuffix(fake.URL, "/v2")+"/oauth/v2/authorization?") {
		t.Errorf("stdout is not the URL line alone:\n%s", stdout)
	}
	for _, want := range []string{"Access token expires 2026-05-09T12:00:00Z (in 60 days)", "Refresh token expires 2027-03-10T12:00:00Z (in 365 days)",
		`"msg":"signed in"`, `"refresh_token_expires":"2027-03-10T12:00:00Z"`, path + " (mode 0600)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	noToken(t, stdout+stderr, access, refresh)
	// The tokens work: the member's calls and a refresh.
	code, stdout, stderr = runCLIAt(authNow, fake.env("SALESNAV_ACCESS_TOKEN", access, "SALESNAV_REFRESH_TOKEN", refresh,
		"SALESNAV_PARQUET_DIR", t.TempDir()), "config", "check", "--connect")
	if code != ExitOK || !strings.Contains(stdout, "api: ok") {
		t.Errorf("config check --connect with the new tokens: %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestAuthLoginKubernetesSecret(t *testing.T) {
	fake := newAuthFake(t, fakeapi.Config{})
	t.Chdir(t.TempDir())
	code, stdout, stderr := login(t, fake.env(), "--k8s-secret", "salesnav-etl-tokens")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	_, manifest, _ := strings.Cut(stdout, "\n") // after the URL line
	var secret struct {
		Kind     string
		Metadata struct {
			Name        string
			Annotations map[string]string
		}
		StringData map[string]string `json:"stringData"`
	}
	if err := yaml.Unmarshal([]byte(manifest), &secret); err != nil {
		t.Fatalf("%v:\n%s", err, manifest)
	}
	access, refresh := secret.StringData["SALESNAV_ACCESS_TOKEN"], secret.StringData["SALESNAV_REFRESH_TOKEN"]
	if secret.Kind != "Secret" || secret.Metadata.Name != "salesnav-etl-tokens" || !strings.HasPrefix(access, "fake-issued-") ||
		!strings.HasPrefix(refresh, "fake-refresh-") || secret.Metadata.Annotations["salesnav-etl/refresh-token-expires-at"] != "2027-03-10T12:00:00Z" {
		t.Errorf("manifest:\n%s", manifest)
	}
	if _, err := os.Stat("salesnav.env"); err == nil {
		t.Error("--k8s-secret also wrote the env file")
	}
	noToken(t, stderr, access, refresh)
	if !strings.Contains(stderr, "the manifest of Secret salesnav-etl-tokens on standard output") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// An app that is not an approved partner gets no refresh token: the access
// token is kept alone (an older refresh token removed), and the member is
// told when to consent again.
func TestAuthLoginWithoutRefreshToken(t *testing.T) {
	fake := newAuthFake(t, fakeapi.Config{Faults: fakeapi.Faults{NoRefreshToken: true}})
	path := filepath.Join(t.TempDir(), "salesnav.env")
	os.WriteFile(path, []byte("SALESNAV_REFRESH_TOKEN=an-old-one\nSALESNAV_CLIENT_SECRET=fake-secret\n"), 0o600)
	code, stdout, stderr := login(t, fake.env(), "--env-file", path)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	vars := readEnvFile(t, path)
	if _, has := vars["SALESNAV_REFRESH_TOKEN"]; has || !strings.HasPrefix(vars["SALESNAV_ACCESS_TOKEN"], "fake-issued-") || vars["SALESNAV_CLIENT_SECRET"] != "fake-secret" {
		t.Errorf("env file variables %v", vars)
	}
	want := "No refresh token: LinkedIn gives programmatic refresh tokens to approved partners only. The member must consent again (salesnav-etl auth login) before the access token expires, 2026-05-09T12:00:00Z (in 60 days)."
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	noToken(t, stdout+stderr, vars["SALESNAV_ACCESS_TOKEN"])
}

// A callback that is not LinkedIn's answer to this sign-in, a member who
// declines, or no callback at all: exit 1 with a clear error, and no
// file written.
func TestAuthLoginRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults fakeapi.Faults
		args   []string
		// callback returns the URL the browser opens instead of the
		// authorization URL ("": the authorization URL; "-": none).
		callback func(authURL, redirect string) string
		want     string
	}{
		{"wrong state", fakeapi.Faults{}, nil, func(_, redirect string) string { return redirect + "?code=c0de&state=not-this-one" },
			"the callback's state does not match the one sent"},
		{"missing state", fakeapi.Faults{}, nil, func(_, redirect string) string { return redirect + "?code=c0de" },
			"the callback has no state parameter"},
		{"declined", fakeapi.Faults{DeclineAuthorization: true}, nil, func(string, string) string { return "" },
			`the member declined the authorization (LinkedIn answered error="user_cancelled_authorize"`},
		{"timeout", fakeapi.Faults{}, []string{"--timeout", "100ms"}, func(string, string) string { return "-" },
			"no callback came in time (--timeout 100ms)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newAuthFake(t, fakeapi.Config{Faults: tc.faults})
			path := filepath.Join(t.TempDir(), "salesnav.env")
			r := startCLIAt(authNow, fake.env(), append([]string{"auth", "login", "--no-browser", "--env-file", path}, tc.args...)...)
			authURL := r.authorizationURL(t)
			switch open := tc.callback(authURL, fake.redirect); open {
			case "":
				if status, page := follow(t, authURL); status != http.StatusBadRequest || !strings.Contains(page, "Sign-in failed") {
					t.Errorf("the browser got %d: %s", status, page)
				}
			case "-":
			default:
				if status, page := follow(t, open); status != http.StatusBadRequest || !strings.Contains(page, "Sign-in failed") {
					t.Errorf("the browser got %d: %s", status, page)
				}
			}
			code, stdout, stderr := r.wait()
			if code != ExitFailure || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr lacks %q:\n%s\n%s", code, tc.want, stdout, stderr)
			}
			if _, err := os.Stat(path); err == nil {
				t.Error("the env file was written")
			}
			if n := fake.Server.Calls()["token"]; n != 0 {
				t.Errorf("%d token requests: a code was exchanged", n)
			}
		})
	}
}

func TestAuthLoginConfigErrors(t *testing.T) {
	fake := newAuthFake(t, fakeapi.Config{})
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"no client", fake.env("SALESNAV_CLIENT_ID", "", "SALESNAV_CLIENT_SECRET", ""), nil,
			[]string{"SALESNAV_CLIENT_ID: not set", "SALESNAV_CLIENT_SECRET: not set"}},
		{"a redirect URL off this machine", fake.env("SALESNAV_REDIRECT_URL", "https://example.com:8765/callback"), nil,
			[]string{"SALESNAV_REDIRECT_URL", "loopback"}},
		{"no scope", fake.env("SALESNAV_SCOPES", " "), nil, []string{"SALESNAV_SCOPES: no scope given"}},
		{"an http authorization endpoint", fake.env("SALESNAV_AUTH_URL", "http://www.linkedin.com/oauth/v2/authorization"), nil,
			[]string{"SALESNAV_AUTH_URL", "not an https URL"}},
		{"bad flags", fake.env(), []string{"--k8s-secret", "Bad_Name", "--env-file", "x.env", "--timeout", "0s"},
			[]string{"--timeout: 0s", "--k8s-secret: give it or --env-file", `--k8s-secret: not a Kubernetes object name: "Bad_Name"`}},
		{"a negative timeout", fake.env(), []string{"--timeout", "-1m"}, []string{"--timeout: -1m0s is not a positive duration"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A bounded wait: were the problem missed, the command would
			// wait for a callback.
			code, stdout, stderr := runCLIAt(authNow, tc.env, append([]string{"auth", "login", "--no-browser", "--timeout", "2s"}, tc.args...)...)
			for _, want := range tc.want {
				if code != ExitConfig || !strings.Contains(stderr, want) {
					t.Errorf("exit %d, stderr lacks %q:\n%s\n%s", code, want, stdout, stderr)
				}
			}
			if stdout != "" {
				t.Errorf("a configuration error printed the URL:\n%s", stdout)
			}
		})
	}
	// config check reports the redirect URL too.
	code, _, stderr := runCLI(t, map[string]string{"SALESNAV_ACCESS_TOKEN": "x", "SALESNAV_REDIRECT_URL": "http://10.1.2.3:8765/callback"}, "config", "check")
	if code != ExitConfig || !strings.Contains(stderr, "SALESNAV_REDIRECT_URL") {
		t.Errorf("config check: exit %d\n%s", code, stderr)
	}
	// The manifest holds the tokens: never on a terminal.
	if err := loginFlagsProblems(time.Minute, "salesnav-etl", false, true); err == nil || !strings.Contains(err.Error(), "standard output is a terminal") {
		t.Errorf("--k8s-secret on a terminal: %v", err)
	}
	if err := loginFlagsProblems(time.Minute, "salesnav-etl", false, false); err != nil {
		t.Errorf("--k8s-secret into a pipe: %v", err)
	}
}

// auth status introspects each configured token: valid, close to the end
// of the consent (a warning from 30 days out), expired, revoked. The
// fake's configured tokens: the access token made at authNow, the refresh
// token consented at authNow.
func TestAuthStatus(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name   string
		at     time.Duration // after the consent
		faults fakeapi.Faults
		drop   string // a variable left unset
		code   int
		want   []string
		not    []string
	}{
		{"valid", day, fakeapi.Faults{}, "", ExitOK,
			[]string{"SALESNAV_CLIENT_ID       fake-client", "SALESNAV_CLIENT_SECRET   set",
				"SALESNAV_ACCESS_TOKEN    active, 3L; scopes r_sales_nav_analytics, r_sales_nav_display; created 2026-03-10T12:00:00Z; expires 2026-05-09T12:00:00Z (59 days left)",
				"SALESNAV_REFRESH_TOKEN   active, 3L; scopes r_sales_nav_analytics, r_sales_nav_display; created 2026-03-10T12:00:00Z; expires 2027-03-10T12:00:00Z (364 days left)"},
			[]string{"Warning"}},
		{"31 days left: no warning", 334 * day, fakeapi.Faults{}, "", ExitOK,
			[]string{"expires 2027-03-10T12:00:00Z (31 days left)", "SALESNAV_ACCESS_TOKEN    expired, 3L", "(not used: the refresh token supplies access tokens)"},
			[]string{"Warning"}},
		{"25 days left: warning", 340 * day, fakeapi.Faults{}, "", ExitOK,
			[]string{"expires 2027-03-10T12:00:00Z (25 days left)",
				"Warning: the refresh token expires in 25 days, 2027-03-10T12:00:00Z: the member must sign in again (salesnav-etl auth login) before then.",
				`"level":"WARN","msg":"the member's consent runs out soon","token":"SALESNAV_REFRESH_TOKEN"`},
			nil},
		{"expired", 366 * day, fakeapi.Faults{}, "", ExitFailure,
			[]string{"SALESNAV_REFRESH_TOKEN   expired, 3L", "invalid token(s): SALESNAV_ACCESS_TOKEN (expired), SALESNAV_REFRESH_TOKEN (expired)"}, nil},
		{"revoked", day, fakeapi.Faults{RevokedTokens: true}, "", ExitFailure,
			[]string{"invalid token(s): SALESNAV_ACCESS_TOKEN (revoked), SALESNAV_REFRESH_TOKEN (revoked)"}, nil},
		{"access token alone, expired", 61 * day, fakeapi.Faults{}, "SALESNAV_REFRESH_TOKEN", ExitFailure,
			[]string{"SALESNAV_REFRESH_TOKEN   not set", "invalid token(s): SALESNAV_ACCESS_TOKEN (expired)"}, nil},
		{"access token alone, 20 days left: warning", 40 * day, fakeapi.Faults{}, "SALESNAV_REFRESH_TOKEN", ExitOK,
			[]string{"Warning: the access token expires in 20 days"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newAuthFake(t, fakeapi.Config{Faults: tc.faults})
			now := authNow.Add(tc.at)
			fake.set(now)
			env := fake.env("SALESNAV_ACCESS_TOKEN", fakeapi.DefaultToken, "SALESNAV_REFRESH_TOKEN", fakeapi.DefaultRefreshToken)
			delete(env, tc.drop)
			code, stdout, stderr := runCLIAt(now, env, "auth", "status")
			out := stdout + stderr
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			for _, not := range tc.not {
				if strings.Contains(out, not) {
					t.Errorf("output has %q:\n%s", not, out)
				}
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			if want := len(env) - len(fake.env()); fake.Server.Calls()["introspect"] != want {
				t.Errorf("%d introspections, want one per configured token (%d)", fake.Server.Calls()["introspect"], want)
			}
		})
	}
	fake := newAuthFake(t, fakeapi.Config{})
	// Nothing configured but the client: nothing to check.
	if code, stdout, _ := runCLIAt(authNow, fake.env(), "auth", "status"); code != ExitOK || !strings.Contains(stdout, "No member token is configured") {
		t.Errorf("no token: %d\n%s", code, stdout)
	}
	// A token but no client to introspect it with.
	code, _, stderr := runCLIAt(authNow, map[string]string{"SALESNAV_ACCESS_TOKEN": "tok-1234"}, "auth", "status")
	if code != ExitConfig || !strings.Contains(stderr, "SALESNAV_CLIENT_ID: not set: auth status needs it to introspect the tokens") {
		t.Errorf("no client: %d\n%s", code, stderr)
	}
}

// With a display, auth login opens the browser ($BROWSER here: a script
// that hands the URL to the test through a FIFO) and prints nothing on
// stdout; --no-browser prints the URL even then.
func TestAuthLoginOpensTheBrowser(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "opened")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "browser")
	os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$1\" > '"+fifo+"'\n"), 0o700)
	fake := newAuthFake(t, fakeapi.Config{})
	env := fake.env("DISPLAY", ":0", "BROWSER", script)
	r := startCLIAt(authNow, env, "auth", "login", "--env-file", filepath.Join(dir, "salesnav.env"), "--timeout", "30s")
	opened := make(chan string, 1)
	go func() {
		raw, _ := os.ReadFile(fifo) // blocks until the browser writes
		opened <- strings.TrimSpace(string(raw))
	}()
	t.Cleanup(func() { // unblock the reader if the browser never came
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	select {
	case u := <-opened:
		follow(t, u)
	case code := <-r.done:
		t.Fatalf("auth login ended (exit %d) without opening the browser:\n%s\n%s", code, r.stdout.String(), r.stderr.String())
	}
	code, stdout, stderr := r.wait()
	if code != ExitOK || stdout != "" || !strings.Contains(stderr, "Opened the browser at LinkedIn's authorization page") {
		t.Errorf("exit %d, stdout %q (want none)\n%s", code, stdout, stderr)
	}
	// --no-browser: the URL on stdout, though a browser could open
	// ("true" opens nothing, and would leave stdout empty).
	env["BROWSER"] = "true"
	if code, stdout, stderr := login(t, env, "--env-file", filepath.Join(dir, "salesnav.env"), "--timeout", "30s"); code != ExitOK || !strings.Contains(stdout, "/oauth/v2/authorization?") {
		t.Errorf("--no-browser with a display: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
