package extract_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
)

// Any key survives the Rest.li encoding, alone and in a List, in both
// directions; decoding arbitrary text never panics.
func FuzzAssociationKeys(f *testing.F) {
	f.Add("00D5e000000abc", "SFDC", "003abc")
	f.Add("sf,1:(x)", "sales force", "a,b(c):d %41")
	f.Add("", "(", ")")
	f.Add("List(", "%", "ü\x00")
	f.Fuzz(func(t *testing.T, instance, partner, record string) {
		k := extract.AssociationKey{InstanceID: instance, Partner: partner, RecordID: record}
		back, err := extract.ParseAssociationKey(k.String())
		if err != nil || back != k {
			t.Fatalf("%q → %q → %+v, %v", k, k.String(), back, err)
		}
		list, err := extract.DecodeAssociationKeys(extract.EncodeAssociationKeys([]extract.AssociationKey{k, k}))
		if err != nil || len(list) != 2 || list[0] != k || list[1] != k {
			t.Fatalf("List of %+v → %+v, %v", k, list, err)
		}
		// Arbitrary input: an error or a key, never a panic.
		extract.ParseAssociationKey(instance + partner + record)
		extract.DecodeAssociationKeys(strings.Join([]string{instance, partner, record}, ","))
	})
}

// bodyTransport answers every request with one status and body, without a
// network.
type bodyTransport struct {
	status int
	body   []byte
	header http.Header
}

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h := b.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: b.status, Header: h, Body: io.NopCloser(bytes.NewReader(b.body)),
		ContentLength: int64(len(b.body)), Request: r, ProtoMajor: 1, ProtoMinor: 1}, nil
}

// Every answer the API could give, decoded by every operation: an error
// or a value, never a panic; a value that says COMPLETED carries what the
// pipeline relies on, or is refused.
func FuzzAPIAnswers(f *testing.F) {
	for _, seed := range []string{
		`{"value":{"id":900000001,"status":"ENQUEUED"}}`,
		`{"id":900000001,"status":"COMPLETED","downloadUrl":"https://x/y","rowCount":3,"expireAt":1767225600000}`,
		`{"jobId":5,"exportStartAt":1,"status":"COMPLETED","exportEndAt":2,"nextExportStartAt":2,"downloadUrls":["https://x/1"],"expireAt":3}`,
		`{"elements":[{"contract":"urn:li:salesContract:1","name":"A","hasReportingAccess":true}],"paging":{"count":10,"start":0,"total":1,"links":[]}}`,
		`{"results":{"(instanceId:a,partner:b,recordId:c)":{"member":"urn:li:person:1","profileUrl":"https://l/p"}},"errors":{"(instanceId:a,partner:b,recordId:d)":{"status":404,"message":"no"}},"statuses":{}}`,
		`{"elements":[{"token":"t","expiryTime":1767225600}]}`,
		`{"status":400,"serviceErrorCode":100,"message":"bad"}`,
		`{"status":404,"code":"NOT_FOUND","message":"x"}`,
		`null`, `[]`, `{"value":null}`, `{"id":"1"}`, ``,
	} {
		for _, status := range []int{200, 201, 400, 404} {
			f.Add([]byte(seed), status)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		switch status {
		case 200, 201, 204, 400, 401, 403, 404, 426:
		default:
			status = 200 // 429 and 5xx are retried with waits: not for a fuzzer
		}
		hdr := http.Header{"X-Restli-Id": {string(body[:min(len(body), 12)])}}
		c, err := extract.New(extract.Config{BaseURL: "https://api.example.com/v2", Token: "t",
			HTTPClient: &http.Client{Transport: bodyTransport{status: status, body: body, header: hdr}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		c.Contracts(ctx)
		c.SalesAccessToken(ctx)
		if job, err := c.AnalyticsExport(ctx, "urn:li:salesContract:1", 1); err == nil && job.Status == extract.StatusCompleted &&
			job.DownloadURL != nil && *job.DownloadURL != "" {
			if u, err := c.CheckDownloadURL(*job.DownloadURL); err == nil && u.Scheme != "https" {
				t.Fatalf("download URL %q accepted", *job.DownloadURL)
			}
		}
		c.CreateAnalyticsExport(ctx, extract.ActionActivity, extract.ExportRequest{Contract: "urn:li:salesContract:1", StartAt: 1, EndAt: 2})
		c.CreateCRMValidationExport(ctx, "urn:li:crmInstance:(A,B)", time.UnixMilli(1))
		c.CRMValidationExport(ctx, "urn:li:crmInstance:(A,B)", 1)
		keys := []extract.AssociationKey{{InstanceID: "a", Partner: "b", RecordID: "c"}, {InstanceID: "a", Partner: "b", RecordID: "d"}}
		if res, err := c.ProfileAssociations(ctx, keys); err == nil && len(res) != len(keys) {
			t.Fatalf("%d results for %d keys", len(res), len(keys))
		}
	})
}
