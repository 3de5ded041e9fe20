package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/salesnav-etl/salesnav-etl/internal/lineage"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// lineageParentVar is the variable that names the parent run, as
// Airflow's OpenLineage provider renders it (no SALESNAV_ prefix: the
// name the provider's docs use).
const lineageParentVar = "OPENLINEAGE_PARENT_ID"

// lineageJob is the OpenLineage job of a run.
const lineageJob = "salesnav-etl.run"

// maxLineageTimeout bounds SALESNAV_OPENLINEAGE_TIMEOUT: a lineage server
// never holds a run up for long.
const maxLineageTimeout = 10 * time.Second

// lineageConfig is the resolved OpenLineage configuration.
type lineageConfig struct {
	URL, APIKey, Namespace string
	Timeout                time.Duration
	Parent                 *lineage.Parent
}

// resolveLineage checks the OpenLineage variables. OPENLINEAGE_PARENT_ID
// is checked only when SALESNAV_OPENLINEAGE_URL is set: a DAG may pass it
// to a deployment that sends no events.
func (e *Env) resolveLineage(c *Config, bad func(*string, string, ...any)) {
	timeout := parsed[time.Duration](e, &e.OpenLineageWait, bad)
	if timeout > maxLineageTimeout {
		bad(&e.OpenLineageWait, "%s is over %s: a lineage server must never hold a run up", timeout, maxLineageTimeout)
	}
	if e.OpenLineageURL == "" {
		return
	}
	if u, err := url.Parse(e.OpenLineageURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		bad(&e.OpenLineageURL, "%q is not an http(s) URL", redactURL(e.OpenLineageURL))
	}
	ns := strings.TrimSpace(e.OpenLineageNS)
	if ns == "" {
		bad(&e.OpenLineageNS, "is empty")
	}
	c.Lineage = lineageConfig{URL: e.OpenLineageURL, APIKey: e.OpenLineageKey, Namespace: ns, Timeout: timeout}
	if e.lineageParent != "" {
		p, err := lineage.ParseParent(e.lineageParent)
		if err != nil {
			bad(&e.lineageParent, "%v (Airflow renders it with macros.OpenLineageProviderPlugin.lineage_parent_id)", err)
		} else {
			c.Lineage.Parent = &p
		}
	}
}

// lineageRun sends one run's OpenLineage events. A nil one sends none.
type lineageRun struct {
	desc    *lineage.Description
	session *lineage.Session
	now     func() time.Time
	mask    func(string) string
}

// startLineage sends the run's START event in the background, when
// SALESNAV_OPENLINEAGE_URL is set; call it once the API root is known
// (the embedded fake's). now is the run's clock. Nothing here can fail the
// run: a problem is a warning, and the run goes on without events.
func startLineage(ctx context.Context, cfg *Config, lookup envconfig.Lookuper, now func() time.Time, log *slog.Logger) *lineageRun {
	lc := cfg.Lineage
	if lc.URL == "" {
		return nil
	}
	off := func(err error) *lineageRun {
		log.Warn("OpenLineage events off for this run", "error", err)
		return nil
	}
	id, err := lineage.NewRunID()
	if err != nil {
		return off(err)
	}
	target := lineage.Target{Sink: cfg.Sink, ParquetRoot: cfg.Parquet.Dir, ClickHouseDSN: cfg.ClickHouse.DSN}
	if !storage.IsURL(target.ParquetRoot) {
		if target.ParquetRoot, err = filepath.Abs(target.ParquetRoot); err != nil {
			return off(fmt.Errorf("%s: %w", envPrefix+"PARQUET_DIR", err))
		}
	}
	target.AzureAccount, _ = lookup.Lookup("AZURE_STORAGE_ACCOUNT")
	desc, err := lineage.Describe(lineage.Plan{RunID: id, Namespace: lc.Namespace, Job: lineageJob, Producer: lineage.Producer(version),
		Parent: lc.Parent, APIURL: cfg.API.BaseURL, Streams: cfg.Pipeline.Streams, Target: target})
	if err != nil {
		return off(err)
	}
	em, err := lineage.NewEmitter(lineage.EmitterConfig{URL: lc.URL, APIKey: lc.APIKey, Timeout: lc.Timeout, Logger: log})
	if err != nil {
		return off(err)
	}
	log.Info("OpenLineage run", "run_id", id, "job", lc.Namespace+"/"+lineageJob, "endpoint", em.Endpoint())
	return &lineageRun{desc: desc, session: em.Begin(ctx, desc.Start(now())), now: now, mask: secretsOf(lookup).String}
}

// finish sends the event that ends the run: COMPLETE for exit 0, FAIL
// otherwise, its message err's (secrets masked). It waits at most twice
// the emitter's timeout.
func (l *lineageRun) finish(ctx context.Context, sum *pipeline.Summary, code int, err error) {
	if l == nil {
		return
	}
	failure := ""
	if code != ExitOK {
		failure = fmt.Sprintf("exit %d", code)
		if err != nil {
			failure += ": " + err.Error()
		}
	}
	ev := l.desc.End(l.now(), sum, failure)
	if f := ev.Run.Facets.ErrorMessage; f != nil {
		f.Message = l.mask(f.Message)
	}
	l.session.End(ctx, ev)
}
