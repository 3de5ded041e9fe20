package testkit

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// Thief is a server that should never be reached: it records the body of
// every request it gets (a token request's client secret and refresh
// token, say) and answers 400. Closed when the test ends.
type Thief struct {
	URL string

	mu       sync.Mutex
	received []string
}

// NewThief starts a Thief for the test.
func NewThief(t testing.TB) *Thief {
	th := &Thief{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		th.mu.Lock()
		th.received = append(th.received, string(body))
		th.mu.Unlock()
		http.Error(w, "nope", http.StatusBadRequest)
	}))
	t.Cleanup(srv.Close)
	th.URL = srv.URL
	return th
}

// Received returns the bodies received so far.
func (th *Thief) Received() []string {
	th.mu.Lock()
	defer th.mu.Unlock()
	return slices.Clone(th.received)
}
