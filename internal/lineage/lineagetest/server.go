package lineagetest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Mode is how a Server answers.
type Mode int

const (
	// Accept answers 201 Created, as Marquez does.
	Accept Mode = iota
	// Fail answers 500.
	Fail
	// Hang never answers: it holds each request until the client gives
	// up (or the test ends).
	Hang
)

// Request is one request a Server received.
type Request struct {
	Method, Path, Authorization, ContentType string
	Body                                     []byte
}

// Event decodes the request's body as a run event's fields that tests
// look at.
func (r Request) Event(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("lineage request body is not JSON: %v\n%s", err, r.Body)
	}
	return m
}

// Server is an OpenLineage HTTP endpoint on loopback that records every
// request, whatever its mode. It stops when the test ends.
type Server struct {
	URL string

	mode     Mode
	mu       sync.Mutex
	requests []Request
	release  chan struct{}
}

// NewServer starts a Server answering as mode says.
func NewServer(t testing.TB, mode Mode) *Server {
	t.Helper()
	s := &Server{mode: mode, release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = srv.URL
	t.Cleanup(srv.Close)
	// Cleanups run last first: hanging handlers are released before
	// Close waits for them.
	t.Cleanup(func() { close(s.release) })
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"),
		ContentType: r.Header.Get("Content-Type"), Body: body})
	s.mu.Unlock()
	switch s.mode {
	case Fail:
		http.Error(w, "lineage backend down", http.StatusInternalServerError)
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.release:
		}
	default:
		w.WriteHeader(http.StatusCreated)
	}
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}
