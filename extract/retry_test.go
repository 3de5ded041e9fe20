package extract_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
)

// scripted answers each request with the next status of a script.
func scripted(t *testing.T, statuses []int, header http.Header) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		st := statuses[min(i, len(statuses)-1)]
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		if st == 200 {
			io.WriteString(w, `{"elements":[{"contract":"urn:li:contract:1","name":"c","hasReportingAccess":true}]}`)
			return
		}
		io.WriteString(w, `{"status":`+strconv.Itoa(st)+`,"code":"THROTTLED","message":"slow down"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func client(t *testing.T, base string, attempts int) *extract.Client {
	t.Helper()
	c, err := extract.New(extract.Config{BaseURL: base + "/v2", Token: "tok", MaxAttempts: attempts,
		RetryInitial: time.Millisecond, RetryMax: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetriesOn429And5xx(t *testing.T) {
	srv, n := scripted(t, []int{429, 503, 500, 200}, nil)
	got, err := client(t, srv.URL, 6).Contracts(context.Background())
	if err != nil || len(got) != 1 {
		t.Fatalf("Contracts = %v, %v", got, err)
	}
	if n.Load() != 4 {
		t.Errorf("%d requests, want 4", n.Load())
	}
}

func TestNoRetryOn4xx(t *testing.T) {
	for _, st := range []int{400, 401, 403, 404, 426} {
		srv, n := scripted(t, []int{st, 200}, nil)
		_, err := client(t, srv.URL, 6).Contracts(context.Background())
		var apiErr *extract.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != st || apiErr.Code != "THROTTLED" || apiErr.Message != "slow down" {
			t.Errorf("status %d: error %v", st, err)
		}
		if n.Load() != 1 {
			t.Errorf("status %d was retried: %d requests", st, n.Load())
		}
	}
	srv, _ := scripted(t, []int{426}, nil)
	if _, err := client(t, srv.URL, 6).Contracts(context.Background()); !errors.Is(err, extract.ErrVersionRetired) {
		t.Errorf("426: %v, want ErrVersionRetired", err)
	}
}

func TestRetriesRunOut(t *testing.T) {
	srv, n := scripted(t, []int{503}, nil)
	_, err := client(t, srv.URL, 3).Contracts(context.Background())
	var apiErr *extract.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("error %v, want the last 503", err)
	}
	if n.Load() != 3 {
		t.Errorf("%d requests, want 3 (MaxAttempts)", n.Load())
	}
}

// 429s are retried until the quota budget passes with no success; then
// the call fails with ErrQuotaExhausted, naming when the quota resets. A
// success in between starts the budget over.
func TestQuotaBudget(t *testing.T) {
	srv, n := scripted(t, []int{429}, nil)
	c, _ := extract.New(extract.Config{BaseURL: srv.URL + "/v2", Token: "tok", MaxAttempts: 2,
		RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond, QuotaBudget: 150 * time.Millisecond})
	start := time.Now()
	_, err := c.Contracts(context.Background())
	var qe *extract.QuotaError
	if !errors.Is(err, extract.ErrQuotaExhausted) || !errors.Is(err, extract.ErrRateLimited) || !errors.As(err, &qe) {
		t.Fatalf("error %v, want ErrQuotaExhausted", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond || n.Load() <= 2 {
		t.Errorf("gave up after %v and %d requests: 429s must outlast MaxAttempts up to the budget", waited, n.Load())
	}
	if qe.ResetAt.Hour() != 0 || !qe.ResetAt.After(time.Now()) || !strings.Contains(err.Error(), "midnight UTC") {
		t.Errorf("reset at %v: %v", qe.ResetAt, err)
	}

	// 429s for a while, a success, then 429s again: no give-up in between.
	var calls atomic.Int32
	began := time.Now()
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if since := time.Since(began); since < 100*time.Millisecond || (since > 150*time.Millisecond && since < 250*time.Millisecond) {
			w.WriteHeader(429)
			return
		}
		io.WriteString(w, `{"elements":[]}`)
	}))
	defer flaky.Close()
	c2, _ := extract.New(extract.Config{BaseURL: flaky.URL + "/v2", Token: "tok", RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond,
		QuotaBudget: 120 * time.Millisecond})
	if _, err := c2.Contracts(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(began.Add(160 * time.Millisecond)))
	if _, err := c2.Contracts(context.Background()); err != nil {
		t.Fatalf("second streak shorter than the budget failed: %v", err)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	srv, n := scripted(t, []int{429, 200}, http.Header{"Retry-After": {"1"}})
	start := time.Now()
	if _, err := client(t, srv.URL, 3).Contracts(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Backoff alone would wait about a millisecond; Retry-After asks for 1 s.
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("retried after %v, Retry-After asked for 1s", waited)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2", n.Load())
	}
}

func TestCancelStopsWaiting(t *testing.T) {
	srv, _ := scripted(t, []int{503}, http.Header{"Retry-After": {"60"}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client(t, srv.URL, 10).Contracts(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("cancel did not stop the wait")
	}
}

func TestRetriesConnectionErrors(t *testing.T) {
	// A listener that drops the first two connections, then serves.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"elements":[]}`)
	})}
	dropping := &dropListener{Listener: ln, drop: 2, n: &conns}
	go srv.Serve(dropping)
	defer srv.Close()
	c := client(t, "http://"+ln.Addr().String(), 5)
	if _, err := c.Contracts(context.Background()); err != nil {
		t.Fatalf("Contracts after dropped connections: %v", err)
	}
	if conns.Load() < 3 {
		t.Errorf("%d connections, want at least 3", conns.Load())
	}
}

type dropListener struct {
	net.Listener
	drop int32
	n    *atomic.Int32
}

func (d *dropListener) Accept() (net.Conn, error) {
	for {
		c, err := d.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if d.n.Add(1) <= d.drop {
			c.Close()
			continue
		}
		return c, nil
	}
}

// TestTokenOnlyToAllowedHosts: a download URL on another host gets no
// Authorization header.
func TestTokenOnlyToAllowedHosts(t *testing.T) {
	var sawAuth atomic.Value
	sawAuth.Store("")
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth.Store(r.Header.Get("Authorization"))
		io.WriteString(w, "a,b\n1,2\n")
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			// Same port, other loopback name: another host.
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/file", http.StatusFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(401)
			return
		}
		io.WriteString(w, "a,b\n1,2\n")
	}))
	defer api.Close()
	c := client(t, api.URL, 1)
	ctx := context.Background()

	// The API host gets the token.
	dl, err := c.Download(ctx, api.URL+"/file")
	if err != nil {
		t.Fatalf("download from the API host: %v", err)
	}
	dl.Close()
	// Another host does not (localhost is not 127.0.0.1's name here).
	dl, err = c.Download(ctx, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/file")
	if err != nil {
		t.Fatal(err)
	}
	dl.Close()
	if got := sawAuth.Load().(string); got != "" {
		t.Errorf("other host received Authorization %q", got)
	}
	// Redirects: TestRedirectsThatGoWouldKeepTheTokenOn.
}

func TestDownloadURLPolicy(t *testing.T) {
	c := client(t, "http://127.0.0.1:1", 1)
	for _, u := range []string{"ftp://127.0.0.1/x", "http://example.com/x", "/relative", "file:///etc/passwd"} {
		if _, err := c.Download(context.Background(), u); !errors.Is(err, extract.ErrDownloadURL) {
			t.Errorf("Download(%q) = %v, want ErrDownloadURL", u, err)
		}
	}
	remote, _ := extract.New(extract.Config{BaseURL: "https://api.linkedin.com/v2", Token: "t"})
	if _, err := remote.CheckDownloadURL("http://127.0.0.1/x"); !errors.Is(err, extract.ErrDownloadURL) {
		t.Errorf("plain http accepted with a non-loopback API: %v", err)
	}
	if _, err := remote.CheckDownloadURL("https://www.linkedin.com/ambry/?x=1"); err != nil {
		t.Errorf("https refused: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	err := extract.Config{BaseURL: "ftp://x", MaxAttempts: -1}.Validate()
	for _, want := range []string{"token is empty", "not an http(s) URL", "negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %q", err, want)
		}
	}
}

// A Retry-After longer than MaxRetryAfter (a daily quota spent) fails at
// once instead of sleeping for hours.
func TestRetryAfterBeyondCapFailsAtOnce(t *testing.T) {
	srv, n := scripted(t, []int{429}, http.Header{"Retry-After": {"86400"}})
	start := time.Now()
	_, err := client(t, srv.URL, 6).Contracts(context.Background())
	if !errors.Is(err, extract.ErrRateLimited) || n.Load() != 1 || time.Since(start) > 5*time.Second {
		t.Fatalf("error %v after %d requests", err, n.Load())
	}
}

// Paging goes on while pages come back full, even without paging.total
// (the OpenAPI file's Paging has none).
func TestContractsPagingWithoutTotal(t *testing.T) {
	var starts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("start"))
		starts = append(starts, r.URL.Query().Get("start")+"/"+r.URL.Query().Get("count"))
		var els []string
		for i := start; i < min(start+10, 23); i++ {
			els = append(els, `{"contract":"urn:li:contract:`+strconv.Itoa(i)+`","name":"c","hasReportingAccess":true}`)
		}
		io.WriteString(w, `{"elements":[`+strings.Join(els, ",")+`],"paging":{"count":10,"start":`+strconv.Itoa(start)+`,"links":[]}}`)
	}))
	defer srv.Close()
	got, err := client(t, srv.URL, 1).Contracts(context.Background())
	if err != nil || len(got) != 23 || got[22].Contract != "urn:li:contract:22" {
		t.Fatalf("%d contracts, %v (requests %v)", len(got), err, starts)
	}
	if strings.Join(starts, " ") != "0/100 10/100 20/100" {
		t.Errorf("requests %v", starts)
	}
}

func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	if _, err := extract.New(extract.Config{BaseURL: "http://api.linkedin.com/v2", Token: "t"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("plain http to a remote API accepted: %v", err)
	}
	for _, u := range []string{"http://127.0.0.1:8089/v2", "http://localhost:8089/v2", "http://[::1]:8089/v2"} {
		if _, err := extract.New(extract.Config{BaseURL: u, Token: "t"}); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
}

// Redirects that Go's own client would still send the token on: to plain
// http on the same host, and to a subdomain. Test host names reach local
// servers through a custom dialer.
func TestRedirectsThatGoWouldKeepTheTokenOn(t *testing.T) {
	var got atomic.Value
	got.Store("unset")
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
		io.WriteString(w, "a\n1\n")
	}))
	defer target.Close()
	_, targetPort, _ := net.SplitHostPort(target.Listener.Addr().String())
	tlsTarget := httptest.NewTLSServer(target.Config.Handler)
	defer tlsTarget.Close()
	_, tlsTargetPort, _ := net.SplitHostPort(tlsTarget.Listener.Addr().String())
	var redirectTo string
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, redirectTo, http.StatusFound)
	}))
	defer api.Close()
	_, apiPort, _ := net.SplitHostPort(api.Listener.Addr().String())
	tr := api.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.InsecureSkipVerify = true
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
	}
	c, err := extract.New(extract.Config{BaseURL: "https://api.example.test:" + apiPort + "/v2", Token: "tok", TokenHosts: []string{},
		HTTPClient: &http.Client{Transport: tr}, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, to := range map[string]string{
		"downgrade to http on the API host": "http://api.example.test:" + targetPort + "/file",
		"subdomain of the API host":         "https://evil.api.example.test:" + tlsTargetPort + "/file",
	} {
		redirectTo = to
		got.Store("unset")
		dl, err := c.Download(context.Background(), "https://api.example.test:"+apiPort+"/start")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dl.Close()
		if v := got.Load().(string); v != "" {
			t.Errorf("%s: the redirect target got Authorization %q", name, v)
		}
	}
}

// Retry-After: 0 (or a date in the past) never means "hammer": the wait is
// at least the backoff's.
func TestRetryAfterZeroStillBacksOff(t *testing.T) {
	srv, n := scripted(t, []int{429}, http.Header{"Retry-After": {"0"}})
	c, _ := extract.New(extract.Config{BaseURL: srv.URL + "/v2", Token: "tok", RetryInitial: 20 * time.Millisecond,
		RetryMax: 40 * time.Millisecond, QuotaBudget: 300 * time.Millisecond})
	c.Contracts(context.Background())
	if got := n.Load(); got > 25 {
		t.Errorf("%d requests in 300 ms with a 20-40 ms backoff", got)
	}
}

// Creating a job is not repeated after the server may have acted on it: a
// 5xx or a broken connection is final; a 429 (nothing created) is retried.
func TestCreateSentOnce(t *testing.T) {
	srv, n := scripted(t, []int{502, 200}, nil)
	cl := client(t, srv.URL, 6)
	_, err := cl.CreateAnalyticsExport(context.Background(), extract.ActionActivity, extract.ExportRequest{Contract: "c", StartAt: 0, EndAt: 1})
	var apiErr *extract.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || n.Load() != 1 {
		t.Fatalf("create after a 502: %v, %d requests; want the 502 and one request", err, n.Load())
	}
	// 429 and 503 say the request was not handled: retried.
	srv2, n2 := scripted(t, []int{429, 503, 429, 500}, nil)
	_, err = client(t, srv2.URL, 6).CreateAnalyticsExport(context.Background(), extract.ActionActivity, extract.ExportRequest{Contract: "c", StartAt: 0, EndAt: 1})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 || n2.Load() != 4 {
		t.Errorf("%v after %d requests: 429s and 503s must be retried, the 500 must end it", err, n2.Load())
	}
}

// A hung token endpoint fails the call within the token client's timeout.
func TestHungTokenEndpoint(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Second):
		}
	}))
	defer hang.Close()
	// The default token client, with its timeout shortened.
	member, _, err := extract.AuthConfig{ClientID: "id", ClientSecret: "s", RefreshToken: "r", TokenURL: hang.URL, Timeout: 200 * time.Millisecond}.TokenSources(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := extract.New(extract.Config{BaseURL: "http://127.0.0.1:1/v2", TokenSource: member})
	start := time.Now()
	if _, err := c.Contracts(context.Background()); err == nil || time.Since(start) > 900*time.Millisecond {
		t.Fatalf("error %v after %v", err, time.Since(start))
	}
}

// A create whose connection broke after the request went out is final: the
// job may exist. (A GET is retried: TestRetriesConnectionErrors.)
func TestCreateNotRetriedAfterBrokenConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			buf := make([]byte, 4096)
			c.Read(buf) // the request arrives, then the connection dies
			c.Close()
		}
	}()
	c := client(t, "http://"+ln.Addr().String(), 5)
	_, err = c.CreateAnalyticsExport(context.Background(), extract.ActionActivity, extract.ExportRequest{Contract: "c", StartAt: 0, EndAt: 1})
	if err == nil || conns.Load() != 1 {
		t.Fatalf("error %v after %d connections; want a failure after one", err, conns.Load())
	}
}

// Issue 17: no sleep runs past the quota budget. The API asks to wait a
// minute (Retry-After) and the backoff would wait an hour; the budget is
// 200ms. The call must end with ErrQuotaExhausted, not sleep: were either
// wait taken, the test's context (20s, a hundred times the budget) would
// end the call instead.
func TestQuotaStopWithinBudget(t *testing.T) {
	for _, retryAfter := range []string{"60", ""} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		c, _ := extract.New(extract.Config{BaseURL: srv.URL + "/v2", Token: "tok", RetryInitial: time.Hour, RetryMax: time.Hour,
			MaxRetryAfter: 10 * time.Minute, QuotaBudget: 200 * time.Millisecond})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := c.Contracts(ctx)
		cancel()
		srv.Close()
		if !errors.Is(err, extract.ErrQuotaExhausted) {
			t.Errorf("Retry-After %q: %v, want %v", retryAfter, err, extract.ErrQuotaExhausted)
		}
	}
}
