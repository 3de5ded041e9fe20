package auth

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// CheckCallback decides what a callback's query says: the authorization
// code, or why there is none. The state must be the one sent (compared
// in constant time): a missing one is ErrNoState, another
// ErrStateMismatch. An error answer is ErrDeclined for LinkedIn's
// user_cancelled_* codes and ErrAuthorization otherwise, with LinkedIn's
// code and description; one without a state is still reported as such,
// since it grants nothing. A right state with neither a code nor an
// error is ErrNoCode.
func CheckCallback(q url.Values, state string) (code string, err error) {
	got := q.Get("state")
	if e := q.Get("error"); e != "" && (got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(state)) == 1) {
		kind := ErrAuthorization
		if strings.HasPrefix(e, "user_cancelled") {
			kind = ErrDeclined
		}
		detail := "error=" + clip(e)
		if d := q.Get("error_description"); d != "" {
			detail += ", " + clip(d)
		}
		return "", fmt.Errorf("%w (LinkedIn answered %s)", kind, detail)
	}
	switch {
	case got == "":
		return "", ErrNoState
	case subtle.ConstantTimeCompare([]byte(got), []byte(state)) != 1:
		return "", ErrStateMismatch
	case q.Get("code") == "":
		return "", ErrNoCode
	}
	return q.Get("code"), nil
}

// clip quotes text from the browser's URL (anyone's to write) for a
// message, at most 200 bytes of it.
func clip(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Callback is the loopback server of the redirect URL: it answers the
// first request on the URL's path (the callback) with a short page and
// reports what it said; other paths get 404. Close stops it.
type Callback struct {
	srv     *http.Server
	results chan callbackResult
	served  atomic.Bool
	log     *slog.Logger
}

type callbackResult struct {
	code string
	err  error
}

// ListenCallback listens on the redirect URL's host and port (only
// there: a loopback address) and serves its path, checking callbacks
// against state. An https redirect URL is served with a self-signed
// certificate made for the occasion (the browser warns about it). log
// gets a line per callback (nil: none).
func ListenCallback(redirect *url.URL, state string, log *slog.Logger) (*Callback, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", redirect.Host)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", redirect.Host, err)
	}
	if redirect.Scheme == "https" {
		cert, err := selfSignedCert(redirect.Hostname(), time.Now())
		if err != nil {
			ln.Close()
			return nil, err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	c := &Callback{results: make(chan callbackResult, 1), log: log}
	path := redirect.EscapedPath()
	c.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.EscapedPath() != path {
				http.NotFound(w, r)
				return
			}
			if r.Method != http.MethodGet {
				w.Header().Set("Allow", http.MethodGet)
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			c.serve(w, r, state)
		})}
	go c.srv.Serve(ln)
	return c, nil
}

// serve answers a callback: the first one decides, later ones are told
// the sign-in is over.
func (c *Callback) serve(w http.ResponseWriter, r *http.Request, state string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if c.served.Swap(true) {
		w.WriteHeader(http.StatusConflict)
		_ = page.Execute(w, pageData{Title: "Sign-in already handled", Text: "This sign-in is over: go back to the terminal."})
		return
	}
	code, err := CheckCallback(r.URL.Query(), state)
	if err != nil {
		c.log.Warn("authorization callback refused", "error", err)
		w.WriteHeader(http.StatusBadRequest)
		_ = page.Execute(w, pageData{Title: "Sign-in failed", Text: err.Error() + ". Go back to the terminal."})
	} else {
		c.log.Info("authorization callback received")
		_ = page.Execute(w, pageData{Title: "Signed in", Text: "salesnav-etl has the authorization: you can close this tab."})
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	select { // the first callback's result; the channel holds one
	case c.results <- callbackResult{code, err}:
	default:
	}
}

// Wait returns the first callback's code, or why there is none; when ctx
// ends first, ErrTimeout (its deadline passed) or ctx's error.
func (c *Callback) Wait(ctx context.Context) (string, error) {
	select {
	case r := <-c.results:
		return r.code, r.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", ErrTimeout
		}
		return "", ctx.Err()
	}
}

// Close stops the server once the page being served is written (at most
// five seconds).
func (c *Callback) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("stopping the callback server: %w", err)
	}
	return nil
}

type pageData struct{ Title, Text string }

// page is what the browser shows after the callback.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>salesnav-etl: {{.Title}}</title></head>
<body style="font-family: sans-serif; margin: 3em"><h1>{{.Title}}</h1><p>{{.Text}}</p></body></html>
`))
