package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Run runs the pipeline against the fake API at apiURL over [start, end)
// into sink and state, with fast polling. mem, when not nil, is the
// allocator (a checked one in most tests); mutate adjusts the config.
func Run(t testing.TB, apiURL string, sink load.Sink, state load.StateStore, rejectsDir string, mem memory.Allocator,
	start, end time.Time, mutate ...func(*pipeline.Config)) (*pipeline.Summary, error) {
	t.Helper()
	return RunWith(t, API(t, apiURL), sink, state, rejectsDir, mem, start, end, mutate...)
}

// API is a client of the fake at apiURL with fast retries. mutate adjusts
// its config.
func API(t testing.TB, apiURL string, mutate ...func(*extract.Config)) *extract.Client {
	t.Helper()
	cfg := extract.Config{BaseURL: apiURL, Token: fakeapi.DefaultToken, RetryInitial: time.Millisecond, RetryMax: 10 * time.Millisecond, MaxAttempts: 3}
	for _, m := range mutate {
		m(&cfg)
	}
	api, err := extract.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// RunWith is Run with a given API client.
func RunWith(t testing.TB, api pipeline.API, sink load.Sink, state load.StateStore, rejectsDir string, mem memory.Allocator,
	start, end time.Time, mutate ...func(*pipeline.Config)) (*pipeline.Summary, error) {
	t.Helper()
	cfg := pipeline.Config{
		Streams: schema.Streams, Start: start, End: end, RejectsDir: rejectsDir,
		PollInitial: time.Millisecond, PollMax: 5 * time.Millisecond, BatchSize: 1000, Allocator: mem,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	r, err := pipeline.New(cfg, api, sink, state)
	if err != nil {
		t.Fatal(err)
	}
	return r.Run(context.Background())
}
