package extract

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/salesnav-etl/salesnav-etl/internal/iox"
)

// Download is an open export file. The caller must Close it.
type Download struct {
	// Body streams the file's content, gunzipped when it was gzip.
	Body io.Reader
	// ContentLength is the size on the wire, -1 when not sent.
	ContentLength int64
	// Gzip reports whether the content was gzip-compressed.
	Gzip bool
	// BytesRead counts bytes received from the wire so far.
	BytesRead func() int64
	// Unframed reports a body whose end the transfer cannot vouch for: an
	// HTTP/1 answer with neither Content-Length nor chunking, not gzip
	// (whose trailer checks length and CRC), ends wherever the connection
	// happens to close. Its content is hashed as it is read; Confirm
	// fetches it again to check it.
	Unframed bool

	closers []io.Closer
	hash    hash.Hash
	refetch func(ctx context.Context) (*Download, error)
}

// Confirm checks that an Unframed download was whole: it reads what is
// left of Body, fetches the file a second time and wants the same bytes
// (SHA-256). It does nothing for a framed download. The error
// wraps ErrShortDownload when the copies differ.
func (d *Download) Confirm(ctx context.Context) error {
	if !d.Unframed {
		return nil
	}
	// What the caller left unread is part of the file too.
	if _, err := io.Copy(io.Discard, d.Body); err != nil {
		return fmt.Errorf("confirming an unframed download: %w", err)
	}
	again, err := d.refetch(ctx)
	if err != nil {
		return fmt.Errorf("confirming an unframed download: %w", err)
	}
	defer again.Close()
	h := sha256.New()
	if _, err := io.Copy(h, again.Body); err != nil {
		return fmt.Errorf("confirming an unframed download: %w", err)
	}
	if !bytes.Equal(h.Sum(nil), d.hash.Sum(nil)) {
		return fmt.Errorf("%w: a download with neither Content-Length nor chunking differed from a second copy (%d bytes, then %d)",
			ErrShortDownload, d.BytesRead(), again.BytesRead())
	}
	return nil
}

// Close releases the connection.
func (d *Download) Close() error {
	var first error
	for i := len(d.closers) - 1; i >= 0; i-- {
		if err := d.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckDownloadURL enforces the download policy: https only, except plain
// http to a loopback host when the API itself is on loopback (the embedded
// fake API).
func (c *Client) CheckDownloadURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: not an absolute URL", ErrDownloadURL)
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		if isLoopback(u.Hostname()) && isLoopback(c.base.Hostname()) {
			return u, nil
		}
		return nil, fmt.Errorf("%w: plain http to %s (only https, or http on loopback when the API is on loopback)", ErrDownloadURL, u.Hostname())
	}
	return nil, fmt.Errorf("%w: scheme %q", ErrDownloadURL, u.Scheme)
}

// Download opens an export file for streaming. The bearer token goes only to
// allowed hosts (the API host and TokenHosts); LinkedIn's signed download
// URLs need none. Opening the file is retried like any call; the body is
// never held in memory. gzip content is detected by its magic bytes and
// decompressed.
func (c *Client) Download(ctx context.Context, rawURL string) (*Download, error) {
	return c.download(ctx, rawURL, false)
}

// DownloadCRM is Download for the files of CRM data validation exports,
// with the application's (2-legged) token.
func (c *Client) DownloadCRM(ctx context.Context, rawURL string) (*Download, error) {
	return c.download(ctx, rawURL, true)
}

func (c *Client) download(ctx context.Context, rawURL string, app bool) (*Download, error) {
	u, err := c.CheckDownloadURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("downloading from %s: %w", redactedURL(rawURL), err)
	}
	// The body is read under a context of its own, ended when the server
	// goes quiet (idleReader) or the download is closed.
	dctx, cancel := context.WithCancelCause(ctx)
	resp, err := c.do(dctx, request{op: "download", method: http.MethodGet, url: u.String(), auth: true, app: app})
	if err != nil {
		cancel(nil)
		return nil, fmt.Errorf("downloading from %s: %w", redactedURL(rawURL), err)
	}
	idle := newIdleReader(dctx, resp.Body, c.cfg.DownloadIdleTimeout, cancel)
	cr := &countingReader{r: idle, want: resp.ContentLength}
	body, gz, err := iox.MaybeGunzip(cr)
	if err != nil {
		// The body broke or ended within its first bytes (a gzip
		// header cut short): a transfer problem, another copy may do.
		resp.Body.Close()
		idle.Close()
		if !errors.Is(err, ErrShortDownload) {
			err = fmt.Errorf("%w: %w", ErrShortDownload, err)
		}
		return nil, fmt.Errorf("downloading from %s: %w", redactedURL(rawURL), err)
	}
	d := &Download{
		Body:          body,
		ContentLength: resp.ContentLength,
		Gzip:          gz,
		BytesRead:     func() int64 { return cr.n },
		closers:       []io.Closer{idle, resp.Body, body},
		refetch:       func(ctx context.Context) (*Download, error) { return c.download(ctx, rawURL, app) },
	}
	// Go decompresses a Content-Encoding: gzip answer itself (and checks
	// its trailer): that body is framed by the gzip stream.
	if resp.ProtoMajor == 1 && resp.ContentLength < 0 && !slices.Contains(resp.TransferEncoding, "chunked") && !gz && !resp.Uncompressed {
		d.Unframed = true
		d.hash = sha256.New()
		d.Body = io.TeeReader(body, d.hash)
	}
	return d, nil
}

// redactedURL drops the query (signatures) from a URL for messages.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery = ""
	u.User = nil
	return u.String()
}

// countingReader counts the bytes of a body and checks them against its
// Content-Length (want, -1 when none was sent) at the end. net/http checks
// this too; the check is ours so that the contract holds whatever the
// transport (and is tested).
type countingReader struct {
	r    io.Reader
	n    int64
	want int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.want >= 0 && c.n < c.want && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
		return n, fmt.Errorf("%w: %d of %d bytes", ErrShortDownload, c.n, c.want)
	}
	return n, err
}

// idleReader fails a Read that waits longer than idle for the server's
// next byte: it cancels the download's context with ErrDownloadIdle as
// the cause, and returns that cause. Time the caller spends between Reads
// (a slow sink) does not count. Close stops the clock and ends the
// context.
type idleReader struct {
	ctx    context.Context
	r      io.Reader
	idle   time.Duration
	cancel context.CancelCauseFunc
	timer  *time.Timer
}

func newIdleReader(ctx context.Context, r io.Reader, idle time.Duration, cancel context.CancelCauseFunc) *idleReader {
	ir := &idleReader{ctx: ctx, r: r, idle: idle, cancel: cancel}
	ir.timer = time.AfterFunc(time.Hour, func() {
		cancel(fmt.Errorf("%w: no byte received for %v", ErrDownloadIdle, idle))
	})
	ir.timer.Stop()
	return ir
}

func (r *idleReader) Read(p []byte) (int, error) {
	r.timer.Reset(r.idle)
	n, err := r.r.Read(p)
	r.timer.Stop()
	if err != nil && !errors.Is(err, io.EOF) {
		if cause := context.Cause(r.ctx); errors.Is(cause, ErrDownloadIdle) {
			err = cause
		}
	}
	return n, err
}

func (r *idleReader) Close() error {
	r.timer.Stop()
	r.cancel(nil)
	return nil
}
