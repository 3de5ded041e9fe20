package fakeapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
)

// With CacheDir, an export is generated once, kept on disk, and served
// again byte for byte, with its length, to a later job of the same range.
func TestCachedDownloads(t *testing.T) {
	cache := t.TempDir()
	srv := httptest.NewServer(fakeapi.New(fakeapi.Config{CacheDir: cache, RowsPerDay: 500}).Handler())
	defer srv.Close()
	c, err := extract.New(extract.Config{BaseURL: srv.URL + "/v2", Token: fakeapi.DefaultToken})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	fetch := func() ([]byte, int64, int64) {
		job, err := c.CreateAnalyticsExport(ctx, extract.ActionActivity, extract.ExportRequest{Contract: "urn:li:salesContract:1001",
			StartAt: extract.Millis(start), EndAt: extract.Millis(start.Add(24*time.Hour - time.Millisecond))})
		if err != nil {
			t.Fatal(err)
		}
		for !job.Status.Done() {
			if job, err = c.AnalyticsExport(ctx, "urn:li:salesContract:1001", job.ID); err != nil {
				t.Fatal(err)
			}
		}
		dl, err := c.Download(ctx, *job.DownloadURL)
		if err != nil {
			t.Fatal(err)
		}
		defer dl.Close()
		body, err := io.ReadAll(dl.Body)
		if err != nil {
			t.Fatal(err)
		}
		return body, dl.ContentLength, *job.RowCount
	}
	first, n1, rows := fetch()
	second, n2, _ := fetch()
	if len(first) < 10_000 || !bytes.Equal(first, second) || n1 != int64(len(first)) || n2 != n1 {
		t.Errorf("cached downloads: %d and %d bytes, Content-Length %d and %d", len(first), len(second), n1, n2)
	}
	if lines := int64(bytes.Count(first, []byte("\n"))); rows != lines-1 {
		t.Errorf("rowCount %d, the file has %d rows", rows, lines-1)
	}
	// The file and its row count, which a status poll then reads from the
	// cache instead of generating every row again.
	counts, _ := filepath.Glob(filepath.Join(cache, "*.rowcount"))
	if entries, _ := os.ReadDir(cache); len(entries) != 2 || len(counts) != 1 {
		t.Fatalf("%d files in the cache, %d row counts; want a file and its count", len(entries), len(counts))
	}
	if err := os.WriteFile(counts[0], []byte("7"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, got := fetch(); got != 7 {
		t.Errorf("rowCount %d, want the cached 7", got)
	}
}
