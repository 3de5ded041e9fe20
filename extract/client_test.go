package extract_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
)

func newFake(t *testing.T, cfg fakeapi.Config) (*fakeapi.Server, *extract.Client) {
	t.Helper()
	fake := fakeapi.New(cfg)
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	tok := cfg.Token
	if tok == "" {
		tok = fakeapi.DefaultToken
	}
	c, err := extract.New(extract.Config{BaseURL: srv.URL + "/v2", Token: tok, RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

func TestContracts(t *testing.T) {
	_, c := newFake(t, fakeapi.Config{})
	got, err := c.Contracts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d contracts, want 3", len(got))
	}
	reporting := 0
	for _, ct := range got {
		if ct.HasReportingAccess {
			reporting++
		}
		if !strings.HasPrefix(ct.Contract, "urn:li:") || ct.Name == "" {
			t.Errorf("bad contract %+v", ct)
		}
	}
	if reporting != 2 {
		t.Errorf("%d contracts with reporting access, want 2", reporting)
	}
}

func TestAnalyticsExportLifecycleAndDownload(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			fake, c := newFake(t, fakeapi.Config{Gzip: gz, RowsPerDay: 50})
			ctx := context.Background()
			const contract = "urn:li:salesContract:1001"
			start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			end := start.AddDate(0, 0, 2).Add(-time.Millisecond)
			job, err := c.CreateAnalyticsExport(ctx, extract.ActionActivity, extract.ExportRequest{Contract: contract, StartAt: extract.Millis(start), EndAt: extract.Millis(end)})
			if err != nil {
				t.Fatal(err)
			}
			if job.Status != extract.StatusEnqueued || job.ID == 0 {
				t.Fatalf("created job = %+v", job)
			}
			var statuses []extract.JobStatus
			for !job.Status.Done() {
				if job, err = c.AnalyticsExport(ctx, contract, job.ID); err != nil {
					t.Fatal(err)
				}
				statuses = append(statuses, job.Status)
			}
			if fmt.Sprint(statuses) != "[ENQUEUED PROCESSING COMPLETED]" {
				t.Errorf("statuses = %v", statuses)
			}
			if job.DownloadURL == nil || job.RowCount == nil || job.ExpireAt == nil {
				t.Fatalf("completed job lacks fields: %+v", job)
			}
			if exp := job.ExpireAt.Time(); exp.Before(time.Now().Add(50*time.Minute)) || exp.After(time.Now().Add(61*time.Minute)) {
				t.Errorf("expireAt %v is not about an hour away", exp)
			}
			dl, err := c.Download(ctx, *job.DownloadURL)
			if err != nil {
				t.Fatal(err)
			}
			defer dl.Close()
			if dl.Gzip != gz {
				t.Errorf("Gzip = %v, want %v", dl.Gzip, gz)
			}
			body, err := io.ReadAll(dl.Body)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(body)), "\n")
			if lines[0] != "activityId,activityType,createdAt,seatId,memberIdentityKey" {
				t.Errorf("header = %q", lines[0])
			}
			var want int64
			fake.Data().Activities(contract, start.UnixMilli(), end.UnixMilli(), func(fakeapi.Activity) bool { want++; return true })
			if int64(len(lines)-1) != want || *job.RowCount != want {
				t.Errorf("file has %d rows, rowCount %d, fake generates %d", len(lines)-1, *job.RowCount, want)
			}
		})
	}
}

func TestSeatAndOutcomeExports(t *testing.T) {
	_, c := newFake(t, fakeapi.Config{PollsToComplete: 1})
	ctx := context.Background()
	for _, action := range []extract.Action{extract.ActionSeat, extract.ActionActivityOutcome} {
		job, err := c.CreateAnalyticsExport(ctx, action, extract.ExportRequest{Contract: "urn:li:salesContract:1002",
			StartAt: extract.Millis(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), EndAt: extract.Millis(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC))})
		if err != nil {
			t.Fatal(err)
		}
		if job, err = c.AnalyticsExport(ctx, "urn:li:salesContract:1002", job.ID); err != nil || job.Status != extract.StatusCompleted {
			t.Fatalf("%s: poll = %+v, %v", action, job, err)
		}
		if *job.RowCount == 0 {
			t.Errorf("%s: rowCount 0", action)
		}
	}
}

func TestExportErrors(t *testing.T) {
	_, c := newFake(t, fakeapi.Config{})
	ctx := context.Background()
	req := extract.ExportRequest{Contract: "urn:li:salesContract:1003", StartAt: 0, EndAt: 1000}
	_, err := c.CreateAnalyticsExport(ctx, extract.ActionActivity, req)
	var apiErr *extract.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || !errors.Is(err, extract.ErrForbidden) || apiErr.Message == "" {
		t.Errorf("export on a contract without reporting access: %v", err)
	}
	_, err = c.AnalyticsExport(ctx, "urn:li:salesContract:1001", 12345)
	if !errors.Is(err, extract.ErrNotFound) {
		t.Errorf("unknown job: %v, want ErrNotFound", err)
	}
	req.Contract = "urn:li:salesContract:1001"
	req.EndAt = extract.EpochMillis(91 * 24 * time.Hour / time.Millisecond)
	_, err = c.CreateAnalyticsExport(ctx, extract.ActionActivity, req)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Errorf("a 91-day window: %v, want 400", err)
	}
	if _, err := c.CreateAnalyticsExport(ctx, "exportNothing", req); err == nil {
		t.Error("unknown action accepted")
	}
}

func TestWrongToken(t *testing.T) {
	fake := fakeapi.New(fakeapi.Config{})
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	c, _ := extract.New(extract.Config{BaseURL: srv.URL + "/v2", Token: "wrong"})
	_, err := c.Contracts(context.Background())
	var apiErr *extract.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.ServiceErrorCode != 65600 || !errors.Is(err, extract.ErrUnauthorized) {
		t.Fatalf("wrong token: %v", err)
	}
	if fake.Calls()["getContracts"] != 1 {
		t.Errorf("401 was retried: %d calls", fake.Calls()["getContracts"])
	}
}

func TestFakeRejectsMalformedRequests(t *testing.T) {
	fake := fakeapi.New(fakeapi.Config{})
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	do := func(method, path, body string, restli bool) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+fakeapi.DefaultToken)
		if restli {
			req.Header.Set("X-Restli-Protocol-Version", "2.0.0")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cases := []struct {
		method, path, body string
		restli             bool
		want               int
	}{
		{"GET", "/v2/salesContracts", "", true, 400},
		{"GET", "/v2/salesContracts?q=contractsByMember", "", false, 400},
		{"POST", "/v2/salesAnalyticsExportJobs", `{"contract":"urn:li:salesContract:1001","startAt":0,"endAt":1}`, true, 400},
		{"POST", "/v2/salesAnalyticsExportJobs?action=exportEverything", `{"contract":"urn:li:salesContract:1001","startAt":0,"endAt":1}`, true, 400},
		{"POST", "/v2/salesAnalyticsExportJobs?action=exportActivityData", `{"contract":`, true, 400},
		{"POST", "/v2/salesAnalyticsExportJobs?action=exportActivityData", `{"contract":"urn:li:salesContract:1001"}`, true, 400},
		{"GET", "/v2/salesAnalyticsExportJobs/1", "", true, 400},
		{"GET", "/v2/salesAccessTokens", "", true, 400},
		{"GET", "/v2/salesNavigatorProfileAssociations", "", true, 400},
		{"POST", "/v2/crmDataValidationExportJobs?crmInstanceId=nope", `{"exportStartAt":0}`, true, 400},
		// URNs must be URL-encoded in query strings.
		{"GET", "/v2/salesAnalyticsExportJobs/900000001?contract=urn:li:salesContract:1001", "", true, 400},
		{"POST", "/v2/crmDataValidationExportJobs?crmInstanceId=urn:li:crmInstance:(SFDC,1)", `{"exportStartAt":0}`, true, 400},
	}
	for _, tc := range cases {
		code, body := do(tc.method, tc.path, tc.body, tc.restli)
		if code != tc.want || !strings.Contains(body, `"message"`) || !strings.Contains(body, `"status"`) {
			t.Errorf("%s %s: %d %s, want %d with an error body", tc.method, tc.path, code, body, tc.want)
		}
	}
}

func TestSalesAccessToken(t *testing.T) {
	_, c := newFake(t, fakeapi.Config{})
	tok, err := c.SalesAccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.Token == "" || !tok.Expiry().After(time.Now()) || tok.Expiry().After(time.Now().Add(2*time.Hour)) {
		t.Errorf("token %+v expiry %v: want a token expiring within the hour (expiryTime in seconds)", tok, tok.Expiry())
	}
}

func TestProfileAssociations(t *testing.T) {
	_, c := newFake(t, fakeapi.Config{})
	ctx := context.Background()
	var keys []extract.AssociationKey
	for i := range 40 {
		keys = append(keys, extract.AssociationKey{InstanceID: "sf,1:(x)", Partner: "salesforce", RecordID: fmt.Sprintf("003-%d", i)})
	}
	keys = append(keys, extract.AssociationKey{InstanceID: "sf", Partner: "salesforce", RecordID: "error-1"})
	res, err := c.ProfileAssociations(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(keys) {
		t.Fatalf("%d results for %d keys", len(res), len(keys))
	}
	matched, unmatched := 0, 0
	for i, r := range res[:40] {
		if r.Key != keys[i] {
			t.Fatalf("result %d is for %+v", i, r.Key)
		}
		single, err := c.ProfileAssociation(ctx, r.Key)
		switch {
		case r.Matched():
			matched++
			if r.Status != 200 || err != nil || single.Member != r.Association.Member || !strings.HasPrefix(single.Profile, "https://") {
				t.Errorf("key %v: batch %+v, single %+v %v", r.Key, r.Association, single, err)
			}
		default:
			unmatched++
			if r.Status != 404 || !errors.Is(err, extract.ErrNotFound) {
				t.Errorf("unmatched key %v: status %d, single error %v", r.Key, r.Status, err)
			}
		}
	}
	if matched == 0 || unmatched == 0 {
		t.Errorf("matched %d, unmatched %d: want both", matched, unmatched)
	}
	if last := res[40]; last.Matched() || last.Status != 500 || last.Error == "" {
		t.Errorf("errored key: %+v", last)
	}
}

func TestCRMValidationExport(t *testing.T) {
	for _, body := range []bool{false, true} {
		t.Run(fmt.Sprintf("createBody=%v", body), func(t *testing.T) {
			_, c := newFake(t, fakeapi.Config{CRMCreateBody: body})
			ctx := context.Background()
			const inst = "urn:li:crmInstance:(SFDC,00D5e000001)"
			job, err := c.CreateCRMValidationExport(ctx, inst, time.Now().Add(-6*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if job.JobID == 0 || job.Status != extract.CRMStatusProcessing {
				t.Fatalf("created %+v", job)
			}
			for job.Status == extract.CRMStatusProcessing {
				if job, err = c.CRMValidationExport(ctx, inst, job.JobID); err != nil {
					t.Fatal(err)
				}
			}
			if job.Status != extract.CRMStatusCompleted || len(job.DownloadURLs) != 3 || job.NextExportStartAt == nil {
				t.Fatalf("completed %+v", job)
			}
			rows := 0
			for _, u := range job.DownloadURLs {
				dl, err := c.Download(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(dl.Body)
				dl.Close()
				rows += strings.Count(string(b), "\n") - 1
			}
			if rows < 10 || rows > 13 {
				t.Errorf("%d rows over 6 hours, want about 12", rows)
			}
		})
	}
}

func TestDownloadURLExpiresAndSignatureChecked(t *testing.T) {
	now := time.Now()
	clock := atomic.Pointer[time.Time]{}
	clock.Store(&now)
	_, c := newFake(t, fakeapi.Config{PollsToComplete: 1, Now: func() time.Time { return *clock.Load() }})
	ctx := context.Background()
	job, _ := c.CreateAnalyticsExport(ctx, extract.ActionSeat, extract.ExportRequest{Contract: "urn:li:salesContract:1001", StartAt: 0, EndAt: 1000})
	job, _ = c.AnalyticsExport(ctx, "urn:li:salesContract:1001", job.ID)
	tampered := strings.Replace(*job.DownloadURL, "sig=", "sig=0", 1)
	if _, err := c.Download(ctx, tampered); !errors.Is(err, extract.ErrForbidden) {
		t.Errorf("tampered URL: %v, want forbidden", err)
	}
	later := now.Add(61 * time.Minute)
	clock.Store(&later)
	if _, err := c.Download(ctx, *job.DownloadURL); !errors.Is(err, extract.ErrForbidden) {
		t.Errorf("expired URL: %v, want forbidden", err)
	}
}

// Batch answers in the forms Rest.li servers use: a no-match filed under
// errors as an object with its own 404, an error string with a status, a
// key missing from every map (issue 17: an error for that key, asked
// again, never taken for a no-match).
func TestProfileAssociationsAnswerForms(t *testing.T) {
	keys := []extract.AssociationKey{
		{InstanceID: "i", Partner: "SFDC", RecordID: "a"}, {InstanceID: "i", Partner: "SFDC", RecordID: "b"},
		{InstanceID: "i", Partner: "SFDC", RecordID: "c"}, {InstanceID: "i", Partner: "SFDC", RecordID: "d"},
		{InstanceID: "i", Partner: "SFDC", RecordID: "e"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"results": {"(instanceId:i,partner:SFDC,recordId:a)": {"member": "urn:li:person:1", "profile": "https://x/1"}},
			"statuses": {"(instanceId:i,partner:SFDC,recordId:a)": 200, "(instanceId:i,partner:SFDC,recordId:c)": 500},
			"errors": {"(instanceId:i,partner:SFDC,recordId:b)": {"status": 404, "message": "no match"},
			           "(instanceId:i,partner:SFDC,recordId:c)": "boom",
			           "(instanceId:i,partner:SFDC,recordId:e)": {"message": "odd"}}}`)
	}))
	defer srv.Close()
	c, err := extract.New(extract.Config{BaseURL: srv.URL + "/v2", Token: "t", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.ProfileAssociations(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status  int
		matched bool
		err     string
	}{{200, true, ""}, {404, false, "no match"}, {500, false, "boom"}, {0, false, "the answer says nothing about this key (no result, status or error): asked again next run"}, {500, false, "odd"}}
	for i, w := range want {
		if r := res[i]; r.Status != w.status || r.Matched() != w.matched || r.Error != w.err {
			t.Errorf("key %s: status %d, matched %v, error %q; want %+v", keys[i].RecordID, r.Status, r.Matched(), r.Error, w)
		}
	}
}
