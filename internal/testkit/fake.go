package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
)

// Fake is the fake API served over HTTP, with a log of the export jobs
// requested and hooks on downloads.
type Fake struct {
	Server *fakeapi.Server
	// URL is the API root (…/v2).
	URL string

	mu   sync.Mutex
	reqs []extract.ExportRequest
	// Mangle, when set, rewrites download bodies.
	Mangle func([]byte) []byte
	// BeforeDownload, when set, runs before each download is served.
	BeforeDownload func()

	// Jobs per contract between their creation and the end of their
	// download, now and at most.
	active, maxActive map[string]int
	maxAll, nowAll    int
	jobContract       map[int64]string
}

// OnDownload sets BeforeDownload under the fake's lock: the way to set it
// when the downloads come from another process, which the race detector
// cannot see ordered after a plain assignment.
func (f *Fake) OnDownload(fn func()) {
	f.mu.Lock()
	f.BeforeDownload = fn
	f.mu.Unlock()
}

// MaxActive returns the most jobs one contract had at once between
// creation and download, and the most across contracts.
func (f *Fake) MaxActive() (perContract, overall int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.maxActive {
		perContract = max(perContract, n)
	}
	return perContract, f.maxAll
}

// NewFake serves a fake API for the test.
func NewFake(t testing.TB, cfg fakeapi.Config) *Fake {
	f := &Fake{Server: fakeapi.New(cfg), active: map[string]int{}, maxActive: map[string]int{}, jobContract: map[int64]string{}}
	h := f.Server.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/salesAnalyticsExportJobs") {
			body, _ := io.ReadAll(r.Body)
			var req extract.ExportRequest
			_ = json.Unmarshal(body, &req)
			f.mu.Lock()
			f.reqs = append(f.reqs, req)
			f.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
			rec := serveRecorded(h, w, r)
			var out struct {
				Value struct{ ID int64 } `json:"value"`
			}
			if json.Unmarshal(rec.Body.Bytes(), &out) == nil && out.Value.ID != 0 {
				f.mu.Lock()
				f.jobContract[out.Value.ID] = req.Contract
				f.active[req.Contract]++
				f.maxActive[req.Contract] = max(f.maxActive[req.Contract], f.active[req.Contract])
				f.nowAll++
				f.maxAll = max(f.maxAll, f.nowAll)
				f.mu.Unlock()
			}
			return
		}
		// A job is over when it is polled as failed or its file is served.
		if strings.HasPrefix(r.URL.Path, "/v2/salesAnalyticsExportJobs/") && r.Method == http.MethodGet {
			rec := serveRecorded(h, w, r)
			var out struct {
				ID     int64
				Status string
			}
			if json.Unmarshal(rec.Body.Bytes(), &out) == nil && strings.HasPrefix(out.Status, "FAILED") {
				f.jobOver(out.ID)
			}
			return
		}
		if strings.HasPrefix(r.URL.Path, "/downloads/") {
			var id int64
			fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/downloads/"), "%d/", &id)
			defer f.jobOver(id)
		}
		if strings.HasPrefix(r.URL.Path, "/downloads/") {
			f.mu.Lock()
			before, mangle := f.BeforeDownload, f.Mangle
			f.mu.Unlock()
			if before != nil {
				before()
			}
			if mangle != nil {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				w.WriteHeader(rec.Code)
				w.Write(mangle(rec.Body.Bytes()))
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL + "/v2"
	return f
}

// serveRecorded serves r with h into a recorder, copies the answer to w,
// and returns the recorder for a look at it.
func serveRecorded(h http.Handler, w http.ResponseWriter, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
	return rec
}

func (f *Fake) jobOver(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.jobContract[id]; ok {
		delete(f.jobContract, id)
		f.active[c]--
		f.nowAll--
	}
}

// Requests returns the export requests seen so far.
func (f *Fake) Requests() []extract.ExportRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]extract.ExportRequest(nil), f.reqs...)
}

// ActivityIDs lists, sorted, the activity ids the fake serves for the
// contracts over the days [start, end).
func (f *Fake) ActivityIDs(contracts []string, start, end time.Time) []string {
	var ids []string
	for _, c := range contracts {
		f.Server.Data().Activities(c, start.UnixMilli(), end.UnixMilli()-1, func(a fakeapi.Activity) bool {
			ids = append(ids, a.ActivityID)
			return true
		})
	}
	sort.Strings(ids)
	return ids
}

// OutcomeIDs lists, sorted, the outcome activity ids over [start, end).
func (f *Fake) OutcomeIDs(contracts []string, start, end time.Time) []string {
	var ids []string
	for _, c := range contracts {
		f.Server.Data().Outcomes(c, start.UnixMilli(), end.UnixMilli()-1, func(o fakeapi.Outcome) bool {
			ids = append(ids, o.ActivityID)
			return true
		})
	}
	sort.Strings(ids)
	return ids
}

// ActivityHeader is the first line of an activity export.
const ActivityHeader = "activityId,activityType,createdAt,seatId,memberIdentityKey\n"

// IsActivityFile reports whether a download body is an activity export.
func IsActivityFile(b []byte) bool { return bytes.HasPrefix(b, []byte(ActivityHeader)) }

// Date parses YYYY-MM-DD or panics.
func Date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}
