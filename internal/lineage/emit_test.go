package lineage

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/internal/lineage/lineagetest"
)

const testKey = "ol-key-9f3b2c71"

func newEmitter(t *testing.T, url string, timeout time.Duration, log *slog.Logger) *Emitter {
	t.Helper()
	e, err := NewEmitter(EmitterConfig{URL: url, APIKey: testKey, Timeout: timeout, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// An event is POSTed as JSON to <url>/api/v1/lineage with the API key as a
// bearer token; without a key, no Authorization header.
func TestEmitPostsTheEvent(t *testing.T) {
	srv := lineagetest.NewServer(t, lineagetest.Accept)
	d := describe(t, testPlan(Target{Sink: "parquet", ParquetRoot: "/data/salesnav"}))
	e := newEmitter(t, srv.URL+"/marquez/", 0, nil)
	if err := e.Emit(context.Background(), d.Start(startedAt)); err != nil {
		t.Fatal(err)
	}
	noKey, err := NewEmitter(EmitterConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := noKey.Emit(context.Background(), d.End(finishedAt, testSummary(), "")); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/marquez/api/v1/lineage" || r.ContentType != "application/json" || r.Authorization != "Bearer "+testKey {
		t.Errorf("request: %s %s, Content-Type %q, Authorization %q", r.Method, r.Path, r.ContentType, r.Authorization)
	}
	if err := lineagetest.Validate(r.Body); err != nil {
		t.Errorf("the body posted: %v", err)
	}
	if ev := r.Event(t); ev["eventType"] != EventStart || ev["run"].(map[string]any)["runId"] != testRunID {
		t.Errorf("body: %v", ev)
	}
	if reqs[1].Authorization != "" || reqs[1].Path != "/api/v1/lineage" {
		t.Errorf("without a key: Authorization %q, path %s", reqs[1].Authorization, reqs[1].Path)
	}
}

// A server that fails, hangs or redirects is an error of its kind; no
// error text holds the key or the URL's credentials.
func TestEmitFailures(t *testing.T) {
	d := describe(t, testPlan(Target{Sink: "parquet", ParquetRoot: "/data/salesnav"}))
	creds := func(u string) string {
		return strings.Replace(u, "http://", "http://etl:url-pw-41d8@", 1) + "/?api_key=url-key-77aa"
	}
	fail := lineagetest.NewServer(t, lineagetest.Fail)
	hang := lineagetest.NewServer(t, lineagetest.Hang)
	elsewhere := lineagetest.NewServer(t, lineagetest.Accept)
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/api/v1/lineage", http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)
	for _, tc := range []struct {
		name, url string
		want      error
	}{
		{"500", fail.URL, ErrRejected},
		{"hang", hang.URL, ErrTimedOut},
		{"redirect", redirect.URL, ErrRejected},
	} {
		// The emitter's own deadline, short here: it gives up by itself.
		e := newEmitter(t, creds(tc.url), 50*time.Millisecond, nil)
		err := e.Emit(context.Background(), d.Start(startedAt))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		for _, s := range []string{testKey, "url-pw-41d8", "url-key-77aa"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: the error holds %q: %v", tc.name, s, err)
			}
		}
		if strings.Contains(e.Endpoint(), "url-") || strings.Contains(e.Endpoint(), "etl") {
			t.Errorf("endpoint %s", e.Endpoint())
		}
	}
	if n := len(elsewhere.Requests()); n != 0 {
		t.Errorf("a redirect was followed: %d requests elsewhere", n)
	}
	// A server that is not there.
	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL
	gone.Close()
	e := newEmitter(t, creds(url), 0, nil)
	if err := e.Emit(context.Background(), d.Start(startedAt)); err == nil || strings.Contains(err.Error(), "url-pw-41d8") || strings.Contains(err.Error(), "url-key-77aa") {
		t.Errorf("connection refused: %v", err)
	}
	if _, err := NewEmitter(EmitterConfig{URL: "ftp://etl:url-pw-41d8@host"}); err == nil || strings.Contains(err.Error(), "url-pw-41d8") {
		t.Errorf("an ftp URL: %v", err)
	}
}

// A session sends START, then the end event after it; a server that hangs
// costs each event the emitter's timeout, logged as a warning, and the
// session ends all the same.
func TestSession(t *testing.T) {
	d := describe(t, testPlan(Target{Sink: "parquet", ParquetRoot: "/data/salesnav"}))
	srv := lineagetest.NewServer(t, lineagetest.Accept)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	s := newEmitter(t, srv.URL, 0, log).Begin(ctx, d.Start(startedAt))
	cancel() // a cancelled run still reports how it ended
	s.End(ctx, d.End(finishedAt, testSummary(), "run failed"))
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Event(t)["eventType"] != EventStart || reqs[1].Event(t)["eventType"] != EventFail {
		t.Fatalf("%d requests, want START then FAIL", len(reqs))
	}
	if strings.Contains(logs.String(), `"level":"WARN"`) {
		t.Errorf("warnings with a working server:\n%s", logs.String())
	}

	hang := lineagetest.NewServer(t, lineagetest.Hang)
	logs.Reset()
	s = newEmitter(t, hang.URL, 50*time.Millisecond, log).Begin(context.Background(), d.Start(startedAt))
	s.End(context.Background(), d.End(finishedAt, testSummary(), ""))
	warned := strings.Count(logs.String(), `"msg":"OpenLineage event not sent; the run goes on"`)
	if warned != 2 || !strings.Contains(logs.String(), ErrTimedOut.Error()) || strings.Contains(logs.String(), testKey) {
		t.Errorf("%d warnings, want 2 naming the timeout, without the key:\n%s", warned, logs.String())
	}
	if n := len(hang.Requests()); n != 2 {
		t.Errorf("the hanging server got %d requests, want 2", n)
	}
}
