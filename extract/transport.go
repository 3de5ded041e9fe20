package extract

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// request describes one call for do.
type request struct {
	op     string
	method string
	url    string
	body   []byte
	auth   bool // send the bearer token
	app    bool // with an application (2-legged) token
	restli bool // send the Rest.li headers
	// once marks a call that must not be repeated after the server may
	// have acted on it (creating a job): it is retried only on answers that
	// say the request was not handled (429, 503) and on connections that
	// never opened; a 500, 502, 504 or a connection broken after sending
	// is final.
	once bool
}

// hintedBackOff is exponential backoff that waits at least what the API's
// Retry-After asked for, without starting the backoff over, and never
// longer than the limit set for the next wait (what is left of the quota
// budget).
type hintedBackOff struct {
	*backoff.ExponentialBackOff
	hint  time.Duration
	limit time.Duration // 0: none
}

func (h *hintedBackOff) NextBackOff() time.Duration {
	d := h.ExponentialBackOff.NextBackOff()
	if h.hint > d {
		d = h.hint
	}
	if h.limit > 0 && d > h.limit {
		d = h.limit
	}
	h.hint, h.limit = 0, 0
	return d
}

// neverSent reports whether a transport error happened before the request
// reached the server (the connection never opened).
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// do sends req with retries and returns a 2xx response. The caller closes
// its body. Non-2xx answers become *APIError. 429s are retried until the
// quota budget runs out (ErrQuotaExhausted); 5xx and connection errors up
// to MaxAttempts; a 401 once, with a renewed token.
func (c *Client) do(ctx context.Context, req request) (*http.Response, error) {
	b := &hintedBackOff{ExponentialBackOff: backoff.NewExponentialBackOff()}
	b.InitialInterval = c.cfg.RetryInitial
	b.MaxInterval = c.cfg.RetryMax
	b.RandomizationFactor = 0.5
	src := c.member
	if req.app {
		src = c.app
	}
	attempt, failures := 0, 0
	renewed := false
	op := func() (*http.Response, error) {
		attempt++
		var body io.Reader
		if req.body != nil {
			body = bytes.NewReader(req.body)
		}
		hreq, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
		if err != nil {
			return nil, backoff.Permanent(fmt.Errorf("%s: building request: %w", req.op, err))
		}
		hreq.Header.Set("User-Agent", c.cfg.UserAgent)
		if req.restli {
			hreq.Header.Set("X-Restli-Protocol-Version", "2.0.0")
		}
		if req.body != nil {
			hreq.Header.Set("Content-Type", "application/json")
		}
		var sent string
		if req.auth && c.tokenAllowedURL(hreq.URL) {
			tok, err := src.Token()
			if err != nil {
				return nil, backoff.Permanent(fmt.Errorf("%s: %w", req.op, err))
			}
			sent = tok.AccessToken
			hreq.Header.Set("Authorization", "Bearer "+sent)
		}
		giveUp := func(err error) error {
			if failures++; failures >= c.cfg.MaxAttempts {
				return backoff.Permanent(err)
			}
			return err
		}
		began := time.Now()
		resp, err := c.hc.Do(hreq)
		if c.cfg.OnCall != nil {
			status := 0
			if err == nil {
				status = resp.StatusCode
			}
			c.cfg.OnCall(req.op, status, time.Since(began))
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, backoff.Permanent(context.Cause(ctx))
			}
			sent := !neverSent(err)
			err = fmt.Errorf("%s: %w", req.op, redactURLError(err))
			if req.once && sent {
				// The server may have created the job: a retry could make two.
				return nil, backoff.Permanent(err)
			}
			c.log.Warn("api call failed, retrying", "op", req.op, "attempt", attempt, "error", err)
			return nil, giveUp(err)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			c.quotaOK()
			return resp, nil
		}
		apiErr := decodeAPIError(req.op, resp)
		switch {
		case apiErr.StatusCode == http.StatusUnauthorized && sent != "" && !renewed && src.Invalidate(sent):
			// An expired or revoked token: renew it once, at once.
			renewed = true
			c.log.Info("access token refused, renewing it", "op", req.op)
			return nil, apiErr
		case apiErr.StatusCode == http.StatusTooManyRequests:
			d, hasRA := parseRetryAfter(apiErr.RetryAfter, time.Now())
			left, qe := c.quota429(apiErr, hasRA && d > c.cfg.MaxRetryAfter)
			if qe != nil {
				return nil, backoff.Permanent(qe)
			}
			c.log.Warn("api call throttled (429), retrying", "op", req.op, "attempt", attempt)
			if hasRA {
				b.hint = d // at least that long; never less than the backoff
			}
			// No sleep runs past the budget: the last try comes as it ends.
			b.limit = left
			return nil, apiErr
		case !apiErr.Retryable(), req.once && apiErr.StatusCode != http.StatusServiceUnavailable:
			return nil, backoff.Permanent(apiErr)
		}
		c.log.Warn("api call answered with a retryable status", "op", req.op, "attempt", attempt, "status", apiErr.StatusCode)
		if d, ok := parseRetryAfter(apiErr.RetryAfter, time.Now()); ok && d <= c.cfg.MaxRetryAfter {
			b.hint = d
		}
		return nil, giveUp(apiErr)
	}
	return backoff.Retry(ctx, op, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(0))
}

// quotaOK ends a streak of 429s.
func (c *Client) quotaOK() {
	c.quotaMu.Lock()
	c.first429 = time.Time{}
	c.quotaMu.Unlock()
}

// quota429 records a 429 and returns a *QuotaError once the streak has
// lasted as long as the budget, or at once when the API asks to wait
// longer than the client does; otherwise what is left of the budget, the
// longest the next wait may be.
func (c *Client) quota429(last *APIError, tooLong bool) (time.Duration, error) {
	c.quotaMu.Lock()
	defer c.quotaMu.Unlock()
	now := time.Now()
	if c.first429.IsZero() {
		c.first429 = now
	}
	left, stop := quotaLeft(c.first429, now, c.cfg.QuotaBudget)
	if !tooLong && !stop {
		return left, nil
	}
	y, m, d := now.UTC().Date()
	return 0, &QuotaError{Last: last, Since: c.first429, ResetAt: time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)}
}

// quotaLeft is what is left at now of a budget of 429s that began at
// first, and whether it is spent.
func quotaLeft(first, now time.Time, budget time.Duration) (left time.Duration, spent bool) {
	left = first.Add(budget).Sub(now)
	return left, left <= 0
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// redactURLError drops the query string from a *url.Error so that signed
// download URLs do not end up in logs.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

func decodeAPIError(op string, resp *http.Response) *APIError {
	defer resp.Body.Close()
	e := &APIError{Op: op, StatusCode: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Status           int             `json:"status"`
		ServiceErrorCode int             `json:"serviceErrorCode"`
		Message          string          `json:"message"`
		Code             json.RawMessage `json:"code"`
	}
	if json.Unmarshal(raw, &body) == nil {
		e.ServiceErrorCode = body.ServiceErrorCode
		e.Message = body.Message
		if len(body.Code) > 0 {
			var s string
			if json.Unmarshal(body.Code, &s) == nil {
				e.Code = s
			} else {
				e.Code = string(body.Code)
			}
		}
	} else if len(raw) > 0 && resp.Header.Get("Content-Type") != "text/html" {
		msg := strings.TrimSpace(string(raw))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		e.Message = msg
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// callJSON performs an API call and decodes a JSON answer into out (when
// out is not nil). It returns the response headers.
func (c *Client) callJSON(ctx context.Context, op, method, path, rawQuery string, in, out any) (http.Header, int, error) {
	return c.call(ctx, false, op, method, path, rawQuery, in, out)
}

// callApp is callJSON with an application (2-legged) token.
func (c *Client) callApp(ctx context.Context, op, method, path, rawQuery string, in, out any) (http.Header, int, error) {
	return c.call(ctx, true, op, method, path, rawQuery, in, out)
}

// call performs an API call. POSTs create jobs: they are sent once (see
// request.once).
func (c *Client) call(ctx context.Context, app bool, op, method, path, rawQuery string, in, out any) (http.Header, int, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, 0, fmt.Errorf("%s: encoding request: %w", op, err)
		}
	}
	resp, err := c.do(ctx, request{op: op, method: method, url: c.endpoint(path, rawQuery), body: body, auth: true, app: app, restli: true,
		once: method == http.MethodPost})
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBody+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: reading answer: %w", op, err)
	}
	if len(raw) > maxJSONBody {
		return nil, 0, fmt.Errorf("%s: answer larger than %d bytes", op, maxJSONBody)
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, 0, fmt.Errorf("%s: decoding answer: %w", op, err)
		}
	}
	return resp.Header, len(bytes.TrimSpace(raw)), nil
}

// errorText renders a per-key error, which may be a string or an object
// (LinkedIn's error body: message, status); status is 0 when it has none.
func errorText(raw json.RawMessage) (msg string, status int) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, 0
	}
	var obj struct {
		Message string `json:"message"`
		Status  int    `json:"status"`
	}
	if json.Unmarshal(raw, &obj) == nil && (obj.Message != "" || obj.Status != 0) {
		return cmp.Or(obj.Message, string(raw)), obj.Status
	}
	return string(raw), 0
}
