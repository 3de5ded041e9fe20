package lineage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/salesnav-etl/salesnav-etl/internal/secret"
)

// DefaultTimeout bounds one event when EmitterConfig.Timeout is 0.
const DefaultTimeout = 2 * time.Second

// endpointPath is where the HTTP transport posts events, under the base
// URL (OpenLineage's HTTP transport and Marquez).
const endpointPath = "api/v1/lineage"

// EmitterConfig configures an Emitter.
type EmitterConfig struct {
	// URL is the lineage server's base URL (http or https): events are
	// POSTed to <URL>/api/v1/lineage.
	URL string
	// APIKey, when set, is sent as "Authorization: Bearer <APIKey>".
	APIKey string
	// Timeout bounds each event, from connecting to the answer's last
	// byte (default DefaultTimeout). There are no retries.
	Timeout time.Duration
	// Logger gets a warning for each event not sent (default: none).
	Logger *slog.Logger
}

// Emitter posts events to an OpenLineage HTTP endpoint. Its errors and
// logs name the endpoint without credentials, and never hold the API key.
type Emitter struct {
	endpoint string
	redacted string
	apiKey   string
	timeout  time.Duration
	client   *http.Client
	secrets  []string
	log      *slog.Logger
}

// NewEmitter returns an Emitter. A URL that is not http(s) with a host is
// an error (which never holds the URL's credentials).
func NewEmitter(cfg EmitterConfig) (*Emitter, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("lineage URL %s: not an http(s) URL", redactURL(cfg.URL))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Emitter{
		endpoint: u.JoinPath(endpointPath).String(),
		apiKey:   cfg.APIKey,
		timeout:  cfg.Timeout,
		secrets:  append(secret.FromURL(cfg.URL), cfg.APIKey),
		log:      log,
		client: &http.Client{
			Timeout: cfg.Timeout,
			// A redirect is an answer, not followed: the key goes to the
			// endpoint configured and nowhere else.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	e.redacted = redactURL(e.endpoint)
	return e, nil
}

// Endpoint is where events go, without credentials: for messages.
func (e *Emitter) Endpoint() string { return e.redacted }

// Emit posts ev and waits for the answer, at most the emitter's timeout.
// A timeout is ErrTimedOut, an answer other than 2xx ErrRejected; no
// error text holds a credential.
func (e *Emitter) Emit(ctx context.Context, ev RunEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encoding the %s event: %w", ev.EventType, err)
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("posting the %s event to %s: %w", ev.EventType, e.redacted, secret.Scrub(err, e.secrets...))
	}
	req.Header.Set("Content-Type", "application/json")
	if e.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.apiKey)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return fmt.Errorf("posting the %s event to %s: %w within %s", ev.EventType, e.redacted, ErrTimedOut, e.timeout)
		}
		return fmt.Errorf("posting the %s event to %s: %w", ev.EventType, e.redacted, secret.Scrub(err, e.secrets...))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("posting the %s event to %s: %w: HTTP %d", ev.EventType, e.redacted, ErrRejected, resp.StatusCode)
	}
	return nil
}

// Session sends one run's events in order without holding the run up:
// START in the background while the run works, the end event after it.
type Session struct {
	e       *Emitter
	started chan struct{}
}

// Begin posts start in the background and returns at once. Whatever
// happens to it is logged; it never fails the run. ctx's cancellation does
// not stop it (the timeout does).
func (e *Emitter) Begin(ctx context.Context, start RunEvent) *Session {
	s := &Session{e: e, started: make(chan struct{})}
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer close(s.started)
		e.send(ctx, start)
	}()
	return s
}

// End waits for the START event to be sent or given up, then posts end.
// It returns within twice the emitter's timeout, whatever the server
// does; a failure is logged as a warning, never returned: lineage never
// changes a run's outcome.
func (s *Session) End(ctx context.Context, end RunEvent) {
	<-s.started
	s.e.send(context.WithoutCancel(ctx), end)
}

// send posts ev and logs the outcome.
func (e *Emitter) send(ctx context.Context, ev RunEvent) {
	if err := e.Emit(ctx, ev); err != nil {
		e.log.Warn("OpenLineage event not sent; the run goes on", "event", ev.EventType, "run_id", ev.Run.RunID, "error", err)
		return
	}
	e.log.Debug("OpenLineage event sent", "event", ev.EventType, "run_id", ev.Run.RunID, "endpoint", e.redacted)
}

// redactURL is raw without user info or query, for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
	return u.String()
}
