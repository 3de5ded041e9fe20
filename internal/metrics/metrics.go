// Package metrics keeps a run's Prometheus metrics, and hands them to a
// Pushgateway or a text file (node_exporter's textfile collector) when the
// run ends: a batch job lives too briefly to be scraped.
package metrics

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/salesnav-etl/salesnav-etl/internal/secret"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// Namespace prefixes every metric.
const Namespace = "salesnav_etl"

// Run holds one run's metrics. It implements pipeline.Observer, and OnCall
// is extract.Config.OnCall. Safe for concurrent use.
type Run struct {
	reg *prometheus.Registry
	// collectors are every collector registered in reg, for Names' test.
	collectors []prometheus.Collector

	rowsExtracted *prometheus.CounterVec
	rowsLoaded    *prometheus.CounterVec
	rowsRejected  *prometheus.CounterVec
	bytes         *prometheus.CounterVec
	apiCalls      *prometheus.CounterVec
	jobWait       *prometheus.HistogramVec
	runDuration   prometheus.Gauge
	lastSuccess   *prometheus.GaugeVec
	exitCode      prometheus.Gauge
	runEnd        prometheus.Gauge
	// refreshExpiry is registered by its first Set: absent when a run
	// does not learn it.
	refreshExpiry     prometheus.Gauge
	refreshExpiryOnce sync.Once

	mu     sync.Mutex
	totals map[string]Totals

	// set by Finish
	succeeded []string
	backfill  bool
}

var _ pipeline.Observer = (*Run)(nil)

// Totals are a stream's running totals, for progress displays.
type Totals struct {
	Rows, Bytes int64
}

// New returns the metrics of a run of streams; every stream's series exist
// from the start, at zero.
func New(streams []string) *Run {
	r := &Run{reg: prometheus.NewRegistry(), totals: map[string]Totals{}}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
		r.register(c)
		return c
	}
	r.rowsExtracted = counter("rows_extracted_total", "Rows of the export files taken in, loaded or rejected (once each, whatever the download retries).", "stream")
	r.rowsLoaded = counter("rows_loaded_total", "Rows committed to the sink.", "stream")
	r.rowsRejected = counter("rows_rejected_total", "Rows rejected by the schema checks (see the rejects files).", "stream")
	r.bytes = counter("downloaded_bytes_total", "Bytes of export files downloaded (before gzip decoding), retries included.", "stream")
	r.apiCalls = counter("api_calls_total", "HTTP attempts to the Sales Navigator API and its downloads, by operation and status (0: no answer).", "operation", "status")
	r.jobWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "job_wait_seconds",
		Help: "Time from an export job's creation to COMPLETED.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)}, []string{"stream"})
	r.runDuration = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "run_duration_seconds", Help: "Duration of the run."})
	r.lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "last_success_timestamp_seconds",
		Help: "When a run last loaded the stream for every contract without an error (Unix time); absent when this run did not."}, []string{"stream"})
	r.exitCode = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "exit_code", Help: "The run's exit code (0 complete, 1 failed, 2 configuration, 3 partial, 75 retry later)."})
	r.runEnd = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "run_end_timestamp_seconds", Help: "When the run ended (Unix time)."})
	r.refreshExpiry = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "refresh_token_expiry_timestamp_seconds",
		Help: "When the member's refresh token expires (Unix time: 365 days from consent, not extended by refreshing), from the token endpoint's answer to this run's refresh; absent when the run did not learn it."})
	r.register(r.jobWait, r.runDuration, r.lastSuccess, r.exitCode, r.runEnd)
	for _, s := range streams {
		r.rowsExtracted.WithLabelValues(s)
		r.rowsLoaded.WithLabelValues(s)
		r.rowsRejected.WithLabelValues(s)
		r.bytes.WithLabelValues(s)
		r.totals[s] = Totals{}
	}
	return r
}

// register registers collectors in the run's registry and keeps them.
func (r *Run) register(cs ...prometheus.Collector) {
	r.reg.MustRegister(cs...)
	r.collectors = append(r.collectors, cs...)
}

// Registry is the run's registry.
func (r *Run) Registry() *prometheus.Registry { return r.reg }

// Progress counts bytes downloaded, and rows and bytes for progress
// displays. Rows extracted are counted by Finish, from the summary, so that
// a download tried again does not count its rows twice.
func (r *Run) Progress(stream string, rows, bytes int64) {
	r.bytes.WithLabelValues(stream).Add(float64(bytes))
	r.mu.Lock()
	t := r.totals[stream]
	t.Rows += rows
	t.Bytes += bytes
	r.totals[stream] = t
	r.mu.Unlock()
}

// JobWaited observes an export job's wait.
func (r *Run) JobWaited(stream string, d time.Duration) {
	r.jobWait.WithLabelValues(stream).Observe(d.Seconds())
}

// OnCall counts an API attempt.
func (r *Run) OnCall(op string, status int, _ time.Duration) {
	r.apiCalls.WithLabelValues(op, strconv.Itoa(status)).Inc()
}

// SetRefreshTokenExpiry records when the member's refresh token expires,
// as the token endpoint's last refresh answer gave it. Until it is
// called, the metric is absent (a run with a static access token, or
// whose refreshes did not say, exports no guess). It is
// extract.AuthConfig.RefreshTokenExpiry.
func (r *Run) SetRefreshTokenExpiry(t time.Time) {
	r.refreshExpiryOnce.Do(func() { r.register(r.refreshExpiry) })
	r.refreshExpiry.Set(float64(t.Unix()))
}

// Totals returns each stream's running totals.
func (r *Run) Totals() map[string]Totals {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.totals)
}

// Finish records the run's outcome from its summary (nil when the run
// could not start) and its exit code. A backfill sets no last-success
// time: it loads old data, not the latest.
func (r *Run) Finish(sum *pipeline.Summary, exitCode int, took time.Duration, now time.Time, backfill bool) {
	r.backfill = backfill
	r.runDuration.Set(took.Seconds())
	r.exitCode.Set(float64(exitCode))
	r.runEnd.Set(float64(now.Unix()))
	if sum == nil {
		return
	}
	deferred := map[string]bool{}
	for _, d := range sum.Deferred {
		deferred[d.Stream] = true
	}
	for name, st := range sum.Streams {
		r.rowsLoaded.WithLabelValues(name).Add(float64(st.Rows))
		r.rowsRejected.WithLabelValues(name).Add(float64(st.Rejected))
		r.rowsExtracted.WithLabelValues(name).Add(float64(st.Rows + st.Rejected))
		if !backfill && st.Failed == 0 && !deferred[name] && !sum.Stopped && sum.QuotaResetAt == nil && sum.Status != pipeline.StatusFailed {
			r.lastSuccess.WithLabelValues(name).Set(float64(now.Unix()))
			r.succeeded = append(r.succeeded, name)
		}
	}
}

// lastSuccessName is the metric that outlives runs that fail.
const lastSuccessName = Namespace + "_last_success_timestamp_seconds"

// WriteFile writes the metrics in the text format to path, atomically (for
// node_exporter's textfile collector). The last-success times of streams
// that did not succeed this run are carried over from the file the last
// run wrote, so that an alert on their age keeps working.
func (r *Run) WriteFile(path string) error {
	if raw, err := os.ReadFile(path); err == nil {
		p := expfmt.NewTextParser(model.UTF8Validation)
		if fams, err := p.TextToMetricFamilies(bytes.NewReader(raw)); err == nil {
			for _, m := range fams[lastSuccessName].GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "stream" && !slices.Contains(r.succeeded, l.GetValue()) {
						r.lastSuccess.WithLabelValues(l.GetValue()).Set(m.GetGauge().GetValue())
					}
				}
			}
		}
	}
	if err := prometheus.WriteToTextfile(path, r.reg); err != nil {
		return fmt.Errorf("writing metrics to %s: %w", path, err)
	}
	return nil
}

// Redact drops the password of a URL, for messages.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Push sends the metrics to a Pushgateway under job "salesnav_etl",
// replacing what the last run of the same mode pushed (PUT; grouping key
// mode is "scheduled" or "backfill", so a backfill never hides the
// scheduled runs' figures). instance, when set, is a grouping key too
// (several deployments on one gateway). Each stream's last-success time
// goes to a group of its own (key stream), pushed only when the stream
// succeeded: a failed run leaves the last good time in place.
func (r *Run) Push(ctx context.Context, gateway, instance string, client *http.Client) error {
	mode := "scheduled"
	if r.backfill {
		mode = "backfill"
	}
	pusher := func(g prometheus.Gatherer) *push.Pusher {
		p := push.New(gateway, Namespace).Gatherer(g)
		if instance != "" {
			p = p.Grouping("instance", instance)
		}
		if client != nil {
			p = p.Client(client)
		}
		return p
	}
	main := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		fams, err := r.reg.Gather()
		return slices.DeleteFunc(fams, func(f *dto.MetricFamily) bool { return f.GetName() == lastSuccessName }), err
	})
	if err := pusher(main).Grouping("mode", mode).PushContext(ctx); err != nil {
		return fmt.Errorf("pushing metrics to %s: %w", Redact(gateway), secret.Scrub(err, secret.FromURL(gateway)...))
	}
	for _, s := range r.succeeded {
		reg := prometheus.NewRegistry()
		// The group's key gives the series its stream label.
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: lastSuccessName, Help: "When a run last loaded the stream for every contract without an error (Unix time)."})
		g.Set(gaugeValue(r.lastSuccess.WithLabelValues(s)))
		reg.MustRegister(g)
		if err := pusher(reg).Grouping("stream", s).PushContext(ctx); err != nil {
			return fmt.Errorf("pushing the last success of %s to %s: %w", s, Redact(gateway), secret.Scrub(err, secret.FromURL(gateway)...))
		}
	}
	return nil
}

// gaugeValue reads a gauge's value.
func gaugeValue(g prometheus.Gauge) float64 {
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		return 0
	}
	return m.GetGauge().GetValue()
}
