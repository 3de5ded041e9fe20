package testkit

import (
	"bytes"
	"encoding/json"
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
}

// NewFake serves a fake API for the test.
func NewFake(t testing.TB, cfg fakeapi.Config) *Fake {
	f := &Fake{Server: fakeapi.New(cfg)}
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
		}
		if strings.HasPrefix(r.URL.Path, "/downloads/") {
			if f.BeforeDownload != nil {
				f.BeforeDownload()
			}
			if f.Mangle != nil {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				w.WriteHeader(rec.Code)
				w.Write(f.Mangle(rec.Body.Bytes()))
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL + "/v2"
	return f
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
