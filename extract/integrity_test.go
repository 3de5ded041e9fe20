package extract_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
)

// completedURL creates an activity export on the fake and polls it to
// COMPLETED, returning its download URL.
func completedURL(t *testing.T, c *extract.Client) string {
	t.Helper()
	ctx := context.Background()
	const contract = "urn:li:salesContract:1001"
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	job, err := c.CreateAnalyticsExport(ctx, extract.ActionActivity, extract.ExportRequest{Contract: contract,
		StartAt: extract.Millis(start), EndAt: extract.Millis(start.AddDate(0, 0, 3).Add(-time.Millisecond))})
	if err != nil {
		t.Fatal(err)
	}
	for !job.Status.Done() {
		if job, err = c.AnalyticsExport(ctx, contract, job.ID); err != nil {
			t.Fatal(err)
		}
	}
	return *job.DownloadURL
}

// Download integrity: every broken body the fake can serve reads as an
// error, never as a short clean file, except a body with neither
// Content-Length nor gzip cut at a line end, which only the job's rowCount
// can tell (the pipeline checks it: TestChaos, TestShortDownloadFailsTheWindow).
func TestDownloadIntegrity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		gzip  bool
		chaos fakeapi.Chaos
		want  error // nil: reads without error, but short
	}{
		{"content-length, body short", false, fakeapi.Chaos{ShortDownload: 1}, extract.ErrShortDownload},
		{"content-length, gzip body short", true, fakeapi.Chaos{ShortDownload: 1}, extract.ErrShortDownload},
		{"chunked, connection dropped", false, fakeapi.Chaos{DropDownload: 1}, io.ErrUnexpectedEOF},
		{"gzip, cut without length", true, fakeapi.Chaos{CutDownload: 1}, io.ErrUnexpectedEOF},
		{"plain, cut at a line end without length", false, fakeapi.Chaos{CutDownload: 1}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, c := newFake(t, fakeapi.Config{Gzip: tc.gzip, RowsPerDay: 400})
			url := completedURL(t, c)
			whole := read(t, c, url)
			if whole.err != nil || len(whole.body) == 0 || whole.unframed {
				t.Fatalf("fault-free download: %d bytes, unframed %v, %v", len(whole.body), whole.unframed, whole.err)
			}
			ch := tc.chaos
			fake.SetFaults(fakeapi.Faults{Chaos: &ch})
			got := read(t, c, url)
			if tc.want == nil {
				// It reads cleanly, but it is marked unframed, and a second
				// copy (fault-free now) shows it short.
				if got.err != nil || len(got.body) == 0 || len(got.body) >= len(whole.body) || got.body[len(got.body)-1] != '\n' || !got.unframed {
					t.Fatalf("%d of %d bytes, unframed %v, err %v; want a clean short unframed body ending a line", len(got.body), len(whole.body), got.unframed, got.err)
				}
				fake.SetFaults(fakeapi.Faults{})
				if err := got.dl.Confirm(context.Background()); !errors.Is(err, extract.ErrShortDownload) {
					t.Fatalf("Confirm: %v, want ErrShortDownload", err)
				}
				return
			}
			if !errors.Is(got.err, tc.want) {
				t.Fatalf("read %d of %d bytes, err %v; want %v", len(got.body), len(whole.body), got.err, tc.want)
			}
		})
	}
}

type readResult struct {
	body     []byte
	err      error
	unframed bool
	dl       *extract.Download // closed when the test ends
}

func read(t *testing.T, c *extract.Client, url string) readResult {
	t.Helper()
	dl, err := c.Download(context.Background(), url)
	if err != nil {
		return readResult{err: err}
	}
	t.Cleanup(func() { dl.Close() })
	b, err := io.ReadAll(dl.Body)
	return readResult{body: b, err: err, unframed: dl.Unframed, dl: dl}
}

// JSON answers are read up to a limit (16 MiB): a larger one is an error,
// not a process that grows without bound.
func TestJSONAnswerSizeLimit(t *testing.T) {
	huge := append([]byte(`{"elements":[],"pad":"`), bytes.Repeat([]byte("x"), 17<<20)...)
	huge = append(huge, `"}`...)
	c, err := extract.New(extract.Config{BaseURL: "https://api.example.com/v2", Token: "t",
		HTTPClient: &http.Client{Transport: bodyTransport{status: 200, body: huge}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Contracts(context.Background()); err == nil || !strings.Contains(err.Error(), "larger than 16777216 bytes") {
		t.Fatalf("a 17 MiB answer: %v", err)
	}
}

// A whole body without framing (HTTP/1.1, no Content-Length, no chunking,
// as an HTTP/1.0-style server sends) is accepted once a second copy
// matches it, even when the caller stopped reading early.
func TestUnframedWholeBodyConfirmed(t *testing.T) {
	body := []byte(strings.Repeat("activityId,x\n1,2\n", 500))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nConnection: close\r\n\r\n")
		brw.Write(body)
		brw.Flush()
	}))
	defer srv.Close()
	c, err := extract.New(extract.Config{BaseURL: srv.URL + "/v2", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	dl, err := c.Download(context.Background(), srv.URL+"/file")
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	head := make([]byte, 100)
	if _, err := io.ReadFull(dl.Body, head); err != nil || !dl.Unframed {
		t.Fatalf("unframed %v, %v", dl.Unframed, err)
	}
	if err := dl.Confirm(context.Background()); err != nil {
		t.Fatalf("Confirm of a whole unframed body: %v", err)
	}
}
