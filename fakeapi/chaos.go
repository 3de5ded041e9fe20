package fakeapi

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Chaos mixes faults at random, drawn from a seed: every API call, job and
// download draws its fate from one generator, so a seed gives the same
// sequence of draws (the same faults, request for request, when the
// client's requests come in the same order, as with one worker).
// Probabilities are between 0 and 1; zero fields inject nothing.
type Chaos struct {
	Seed int64
	// RateLimit and ServerError answer an API call with 429 or 503.
	RateLimit, ServerError float64
	// Latency delays each request (API or download) by up to this much.
	Latency time.Duration
	// ExpireToken expires every issued access token before an API call,
	// as if their lifetime had run out (the static token never expires).
	ExpireToken float64
	// FailJob ends a new job with FAILED_DUE_TO_INTERNAL_ERROR, or, for
	// analytics jobs, half the time with TIMED_OUT: both are retried by
	// creating the job again.
	FailJob float64
	// Download faults, one per download at most: DropDownload closes the
	// connection halfway (chunked body, no Content-Length); ShortDownload
	// sends the whole file's Content-Length and then half the body;
	// CutDownload sends half the file, cut at a line end, on a connection
	// closed without Content-Length or chunking (a clean EOF: only the
	// job's rowCount tells it is short); ExpireURL answers 403 as for an
	// expired URL.
	DropDownload, ShortDownload, CutDownload, ExpireURL float64
}

// DefaultChaos is the mix the chaos suite uses: every kind of fault, often
// enough that each run meets several, rarely enough that runs progress.
func DefaultChaos(seed int64) *Chaos {
	return &Chaos{Seed: seed, RateLimit: 0.08, ServerError: 0.06, Latency: 3 * time.Millisecond, ExpireToken: 0.03,
		FailJob: 0.1, DropDownload: 0.08, ShortDownload: 0.08, CutDownload: 0.08, ExpireURL: 0.08}
}

// downloadFault is what chaos does to one download.
type downloadFault int

const (
	dlNone downloadFault = iota
	dlDrop
	dlShort
	dlCut
	dlExpired
)

// downloadFaultNames are the counters (Calls) of the download faults.
var downloadFaultNames = map[downloadFault]string{dlDrop: "chaosDownloadDropped", dlShort: "chaosDownloadShort",
	dlCut: "chaosDownloadCut", dlExpired: "chaosURLExpired"}

// chaosCut draws where a broken download of n bytes stops: anywhere in
// it, so that two broken copies of a file seldom match (n/2 without chaos).
func (s *Server) chaosCut(n int) int {
	if n < 2 {
		return 0
	}
	cut, ok := chaosDraw(s, func(_ *Chaos, r *rand.Rand) int { return 1 + r.IntN(n-1) })
	if !ok {
		return n / 2
	}
	return cut
}

// chaosRand returns the chaos generator, made on first use from the
// seed. Callers hold s.mu.
func (s *Server) chaosRand() *rand.Rand {
	if s.chaosRng == nil || s.chaosSeed != s.faults.Chaos.Seed {
		s.chaosSeed = s.faults.Chaos.Seed
		s.chaosRng = rand.New(rand.NewPCG(uint64(s.chaosSeed), 0x5a1e5))
	}
	return s.chaosRng
}

// chaosDraw returns, for the chaos in force, the result of fn on the
// generator; ok is false when there is no chaos.
func chaosDraw[T any](s *Server, fn func(c *Chaos, r *rand.Rand) T) (v T, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.faults.Chaos
	if c == nil {
		return v, false
	}
	return fn(c, s.chaosRand()), true
}

// chaosLatency sleeps the request's drawn latency.
func (s *Server) chaosLatency() {
	d, _ := chaosDraw(s, func(c *Chaos, r *rand.Rand) time.Duration {
		if c.Latency <= 0 {
			return 0
		}
		return time.Duration(r.Int64N(int64(c.Latency)))
	})
	time.Sleep(d)
}

// chaosAPICall draws an API call's fate: an injected status, or 0; it may
// expire the issued tokens first.
func (s *Server) chaosAPICall() int {
	status, _ := chaosDraw(s, func(c *Chaos, r *rand.Rand) int {
		if r.Float64() < c.ExpireToken {
			s.expireAccessTokens()
			s.calls["chaosTokenExpired"]++
		}
		switch p := r.Float64(); {
		case p < c.RateLimit:
			return http.StatusTooManyRequests
		case p < c.RateLimit+c.ServerError:
			return http.StatusServiceUnavailable
		}
		return 0
	})
	return status
}

// chaosJobOutcome draws a new job's outcome: "" to complete.
func (s *Server) chaosJobOutcome(crm bool) string {
	out, _ := chaosDraw(s, func(c *Chaos, r *rand.Rand) string {
		if r.Float64() >= c.FailJob {
			return ""
		}
		s.calls["chaosJobFailed"]++
		if !crm && r.IntN(2) == 0 {
			return "FAILED_DUE_TO_TIMED_OUT"
		}
		return "FAILED_DUE_TO_INTERNAL_ERROR"
	})
	return out
}

// chaosDownload draws a download's fault.
func (s *Server) chaosDownload() downloadFault {
	f, _ := chaosDraw(s, func(c *Chaos, r *rand.Rand) downloadFault {
		p := r.Float64()
		for _, k := range []struct {
			p float64
			f downloadFault
		}{{c.DropDownload, dlDrop}, {c.ShortDownload, dlShort}, {c.CutDownload, dlCut}, {c.ExpireURL, dlExpired}} {
			if p < k.p {
				s.calls[downloadFaultNames[k.f]]++
				return k.f
			}
			p -= k.p
		}
		return dlNone
	})
	return f
}

// serveBroken serves the first cut bytes of body as fault f says: with
// the whole body's Content-Length (dlShort), or cut back to a line end on
// a connection that then closes cleanly (dlCut). body is the file as it
// would be sent (gzip-compressed when the fake serves gzip).
func serveBroken(w http.ResponseWriter, f downloadFault, body []byte, cut int, contentType string) {
	half := body[:cut]
	switch f {
	case dlShort:
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(half)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler)
	case dlCut:
		if i := bytes.LastIndexByte(half, '\n'); i >= 0 && contentType == "text/csv" {
			half = half[:i+1]
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		defer conn.Close()
		// An HTTP/1.1 response with neither Content-Length nor chunking:
		// its body ends where the connection does.
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\nConnection: close\r\n\r\n")
		brw.Write(half)
		brw.Flush()
	}
}
