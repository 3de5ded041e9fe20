package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/pflag"

	"github.com/salesnav-etl/salesnav-etl/auth"
	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/internal/metrics"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// envPrefix prefixes every variable.
const envPrefix = "SALESNAV_"

// Env is the raw configuration: SALESNAV_* variables (read with
// go-envconfig, defaults applied), then flags on top. Values stay strings
// here so that every bad one can be reported at once by Resolve.
type Env struct {
	APIURL          string `env:"API_URL, default=https://api.linkedin.com/v2" doc:"API root"`
	AccessToken     string `env:"ACCESS_TOKEN" secret:"value" doc:"OAuth2 bearer token of the member (or the refresh-token flow); never logged"`
	ClientID        string `env:"CLIENT_ID" doc:"LinkedIn application id: with the secret and a refresh token, member tokens are renewed; with the secret, CRM and profile calls use client credentials"`
	ClientSecret    string `env:"CLIENT_SECRET" secret:"value" doc:"LinkedIn application secret; never logged"`
	RefreshToken    string `env:"REFRESH_TOKEN" secret:"value" doc:"the member's refresh token (365 days); never logged"`
	TokenURL        string `env:"TOKEN_URL, default=https://www.linkedin.com/oauth/v2/accessToken" doc:"OAuth2 token endpoint (introspection, for auth status, is beside it: …/introspectToken)"`
	AuthURL         string `env:"AUTH_URL, default=https://www.linkedin.com/oauth/v2/authorization" doc:"OAuth2 authorization endpoint, where auth login sends the member's browser"`
	RedirectURL     string `env:"REDIRECT_URL, default=http://127.0.0.1:8765/callback" doc:"the redirect URL registered for the LinkedIn app, where auth login serves the callback: a loopback http or https URL with its port"`
	Scopes          string `env:"SCOPES, default=r_sales_nav_analytics r_sales_nav_display" doc:"scopes auth login asks the member for, separated by spaces or commas"`
	TokenHosts      string `env:"TOKEN_HOSTS" doc:"extra hosts that may receive the token on downloads (default: the API's and LinkedIn's)"`
	Sink            string `env:"SINK, default=parquet" doc:"parquet or clickhouse"`
	ParquetDir      string `env:"PARQUET_DIR, default=./out" flag:"parquet-dir" doc:"dataset root: a local directory, or s3://bucket/prefix, gs://bucket/prefix, azblob://container/prefix (credentials from the provider's standard chain)"`
	S3Endpoint      string `env:"S3_ENDPOINT" secret:"url" doc:"base URL of an S3-compatible server (MinIO, Ceph, R2): path-style requests, region us-east-1 unless AWS_REGION says otherwise"`
	ClickHouseDSN   string `env:"CLICKHOUSE_DSN" secret:"url" doc:"clickhouse://user:password@host:9000/database (SALESNAV_SINK=clickhouse); the password is never logged"`
	CHCluster       string `env:"CLICKHOUSE_CLUSTER" doc:"a cluster of the servers' remote_servers: every DDL ON CLUSTER, tables ReplicatedReplacingMergeTree, a Distributed table <stream>_dist per stream that the views read (default: a single server)"`
	CHZKPath        string `env:"CLICKHOUSE_ZK_PATH, default=/clickhouse/tables/{shard}/{database}/{table}" doc:"ZooKeeper path of the replicated tables (SALESNAV_CLICKHOUSE_CLUSTER): {database} and {table} filled in, other macros by each server; tables replicated to every node (state, dimensions) get {shard}=all"`
	CHReplica       string `env:"CLICKHOUSE_REPLICA, default={replica}" doc:"replica name of the replicated tables, unique per node of the cluster (a server macro by default)"`
	Streams         string `env:"STREAMS" flag:"streams" doc:"streams to run; also crm_validation, profile_associations"`
	CRMInstances    string `env:"CRM_INSTANCES" doc:"urn:li:crmInstance:(PARTNER,ID) URNs for crm_validation, separated by commas or spaces (--fake-api: two fake instances)"`
	AssocKeysFile   string `env:"ASSOCIATION_KEYS_FILE" doc:"CSV of instanceId,partner,recordId that profile_associations looks up besides the CRM validation records"`
	AssocRecheck    string `env:"ASSOCIATION_RECHECK, default=30d" parse:"days:0:3650" doc:"a CRM record without a profile match is looked up again this long after (CRM records and profiles change); 0d: every run"`
	AssocBatch      string `env:"ASSOCIATION_BATCH_SIZE, default=100" parse:"int:1:500" doc:"keys per profile association batch lookup (1-500)"`
	Start           string `env:"START" flag:"from" doc:"first day of a first run, YYYY-MM-DD UTC (default: end - 30 days); --from with --to backfills"`
	End             string `env:"END" flag:"to" doc:"exclusive last day, YYYY-MM-DD UTC (default: yesterday)"`
	StatePath       string `env:"STATE_PATH" flag:"state-path" doc:"state file of the Parquet sink, a path or an object URL (default: <parquet dir>/_state.json)"`
	RejectsDir      string `env:"REJECTS_DIR" doc:"rejected rows, as JSON Lines: a directory or an object URL (default: <parquet dir>/_rejects)"`
	MaxRejectRatio  string `env:"MAX_REJECT_RATIO, default=0" parse:"ratio" doc:"share of a window's rows that may be rejected and the window still load"`
	InvalidUTF8     string `env:"INVALID_UTF8, default=reject" parse:"oneof:reject|replace:mode" doc:"a string field that is not valid UTF-8: reject its row, or replace each run of bad bytes with U+FFFD and count the row as repaired"`
	MaxRecordSize   string `env:"MAX_RECORD_SIZE, default=16MiB" parse:"size" doc:"largest CSV record (row) of an export, such as 16MiB: a larger one fails its window, naming the line, and is never read whole into memory"`
	Concurrency     string `env:"CONCURRENCY, default=2" parse:"int:1:64" doc:"contracts at once (one export job per contract at a time)"`
	PollInterval    string `env:"POLL_INTERVAL, default=2s" parse:"duration" doc:"first poll delay, doubling"`
	PollMaxInterval string `env:"POLL_MAX_INTERVAL, default=1m" parse:"duration" doc:"longest poll delay"`
	JobTimeout      string `env:"JOB_TIMEOUT, default=3h" parse:"duration" doc:"longest wait for one export job"`
	JobRetries      string `env:"JOB_RETRIES, default=3" parse:"int:0:20" doc:"new jobs after TIMED_OUT or INTERNAL_ERROR"`
	RetryDelay      string `env:"RETRY_DELAY, default=1m" parse:"duration" doc:"wait before the first of them, doubling"`
	DownloadIdle    string `env:"DOWNLOAD_IDLE_TIMEOUT, default=2m" parse:"duration" doc:"a download whose server sends no byte for this long is given up and tried again with a fresh URL"`
	DownloadTries   string `env:"DOWNLOAD_ATTEMPTS, default=3" parse:"int:1:20" doc:"tries of a file: expired URL, dropped connection, short file"`
	QuotaBudget     string `env:"QUOTA_BUDGET, default=2m" parse:"duration" doc:"429s with no success in between before the run stops (exit 75)"`
	Lookback        string `env:"LOOKBACK, default=2d" doc:"days re-extracted before the cursor, for late data"`
	LockWait        string `env:"LOCK_WAIT, default=0" parse:"duration0" doc:"Parquet: how long a run waits for another run on the same output (or shard) to end before it stands aside with exit 75 (0: not at all)"`
	GracePeriod     string `env:"GRACE_PERIOD, default=25s" parse:"duration" doc:"after SIGTERM, time to finish the window being loaded"`
	BatchSize       string `env:"BATCH_SIZE, default=65536" parse:"int:1:4194304" doc:"rows per Arrow record batch"`
	LogLevel        string `env:"LOG_LEVEL, default=info" doc:"debug, info, warn, error"`
	LogFormat       string `env:"LOG_FORMAT, default=auto" parse:"oneof:auto|json|text:log format" doc:"auto (text on a terminal, JSON otherwise), json or text"`
	ProgressEvery   string `env:"PROGRESS_INTERVAL, default=30s" parse:"duration0" doc:"not on a terminal: a progress log line this often (0: none)"`
	MetricsFile     string `env:"METRICS_FILE" doc:"write Prometheus metrics here at the end of a run (node_exporter textfile collector)"`
	PushgatewayURL  string `env:"PUSHGATEWAY_URL" secret:"url" doc:"push Prometheus metrics to this Pushgateway at the end of a run"`
	MetricsInstance string `env:"METRICS_INSTANCE" doc:"Pushgateway grouping key instance, to tell deployments apart"`
	OpenLineageURL  string `env:"OPENLINEAGE_URL" secret:"url" doc:"OpenLineage server (HTTP transport, e.g. Marquez): a run POSTs START, then COMPLETE or FAIL, to <url>/api/v1/lineage, its parent run from OPENLINEAGE_PARENT_ID (namespace/job/runId, Airflow's lineage_parent_id); a server that fails or is slow never changes the run (default: no events)"`
	OpenLineageKey  string `env:"OPENLINEAGE_API_KEY" secret:"value" doc:"API key sent as a bearer token to SALESNAV_OPENLINEAGE_URL; never logged"`
	OpenLineageNS   string `env:"OPENLINEAGE_NAMESPACE, default=salesnav-etl" doc:"namespace of the events' job (salesnav-etl.run)"`
	OpenLineageWait string `env:"OPENLINEAGE_TIMEOUT, default=2s" parse:"duration" doc:"longest wait for the lineage server per event, at most 10s (no retries): START is sent while the run works, the end event makes the run at most twice this late"`
	MemoryLimit     string `env:"MEMORY_LIMIT, default=auto" doc:"the Go runtime's soft memory limit: auto (3/4 of the container's limit, at most 256MiB), off, or a size such as 512MiB; GOMEMLIMIT wins"`
	Shard           string `env:"SHARD" flag:"shard" doc:"i/n: this run takes the contracts and CRM instances of shard i of n (a stable hash); shard 0 also loads contracts and profile_associations"`
	Shards          string `env:"SHARDS" doc:"n, with Kubernetes' JOB_COMPLETION_INDEX as i (Indexed Jobs): the same as SALESNAV_SHARD=i/n"`

	// jobIndex is Kubernetes' JOB_COMPLETION_INDEX (no prefix), the
	// shard of an Indexed Job's pod, with SALESNAV_SHARDS.
	jobIndex string
	// lineageParent is OPENLINEAGE_PARENT_ID (no prefix): the parent run
	// of the OpenLineage events, as Airflow renders it.
	lineageParent string

	// names maps a field to where its value came from, for messages;
	// decls to its declaration.
	names map[*string]string
	decls map[*string]varDoc
}

// LoadEnv reads the SALESNAV_* variables through lookup.
func LoadEnv(ctx context.Context, lookup envconfig.Lookuper) (*Env, error) {
	var e Env
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{
		Target:   &e,
		Lookuper: envconfig.PrefixLookuper(envPrefix, lookup),
	}); err != nil {
		return nil, fmt.Errorf("reading environment: %w", err)
	}
	e.names, e.decls = map[*string]string{}, map[*string]varDoc{}
	v := reflect.ValueOf(&e).Elem()
	for _, d := range varDocs {
		ptr := v.Field(d.field).Addr().Interface().(*string)
		e.names[ptr], e.decls[ptr] = envPrefix+d.Env, d
		if def := computedDefaults[d.Env]; def != nil {
			if _, set := lookup.Lookup(envPrefix + d.Env); !set {
				*ptr = def()
			}
		}
	}
	e.jobIndex, _ = lookup.Lookup("JOB_COMPLETION_INDEX")
	e.names[&e.jobIndex] = "JOB_COMPLETION_INDEX"
	e.lineageParent, _ = lookup.Lookup(lineageParentVar)
	e.names[&e.lineageParent] = lineageParentVar
	return &e, nil
}

// Override sets a value from a flag that was given, so that messages name
// the flag.
func (e *Env) Override(ptr *string, flagName string, fs *pflag.FlagSet) {
	if f := fs.Lookup(flagName); f != nil && f.Changed {
		*ptr = f.Value.String()
		e.names[ptr] = "--" + flagName
	}
}

// Config is the resolved configuration of a run.
type Config struct {
	API     extract.Config
	Sink    string
	Parquet parquet.Config
	// Blob configures object storage (a Parquet directory or state path
	// that is a URL).
	Blob       storage.BlobOptions
	ClickHouse chsink.Config
	StatePath  string
	Pipeline   pipeline.Config
	LogLevel   slog.Level
	// Auth selects the token flow; GracePeriod bounds a graceful stop.
	Auth extract.AuthConfig
	// Login is the member's sign-in (auth login, auth status).
	Login       auth.Config
	GracePeriod time.Duration
	// LogFormat is auto, json or text; ProgressEvery spaces progress log
	// lines when stderr is not a terminal (0: none).
	LogFormat     string
	ProgressEvery time.Duration
	// MetricsFile and PushgatewayURL receive the run's metrics at its end;
	// MetricsInstance is the Pushgateway's instance grouping key.
	MetricsFile, PushgatewayURL, MetricsInstance string
	// LockWait is how long a run waits for the output's lease held by
	// another run (0: it stands aside at once).
	LockWait time.Duration
	// StatePeers is the unsharded state path: the state files of the
	// shards sit beside it (StatePath is this run's own file).
	StatePeers string
	// Lineage configures the OpenLineage events (URL empty: none).
	Lineage lineageConfig
}

// Resolve parses and checks every value, reporting all problems at once,
// each naming its variable or flag. now is the clock for default dates;
// requireToken is false when the embedded fake API supplies the token.
func (e *Env) Resolve(now time.Time, requireToken bool) (*Config, error) {
	var errs []error
	bad := func(ptr *string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", e.names[ptr], fmt.Sprintf(format, args...)))
	}
	c := &Config{}

	if u, err := url.Parse(e.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad(&e.APIURL, "%q is not an http(s) URL", e.APIURL)
	} else if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		bad(&e.APIURL, "%q: plain http is allowed only on loopback (the fake API); use https", e.APIURL)
	}
	c.API.BaseURL = e.APIURL
	c.API.Token = e.AccessToken
	c.Auth = extract.AuthConfig{AccessToken: e.AccessToken, ClientID: e.ClientID, ClientSecret: e.ClientSecret,
		RefreshToken: e.RefreshToken, TokenURL: e.TokenURL}
	// CRM validation and profile associations need only the application's
	// client credentials; every other stream, a member token.
	crmOnly := len(splitList(e.Streams)) > 0
	for _, name := range splitList(e.Streams) {
		st, err := schema.Lookup(name)
		crmOnly = crmOnly && err == nil && st.Extract.AppToken()
	}
	if requireToken {
		switch {
		case strings.TrimSpace(e.AccessToken) == "" && e.RefreshToken == "" && crmOnly && e.ClientID != "" && e.ClientSecret != "":
		case strings.TrimSpace(e.AccessToken) == "" && e.RefreshToken == "":
			bad(&e.AccessToken, "not set: a LinkedIn access token is required (or SALESNAV_CLIENT_ID, SALESNAV_CLIENT_SECRET and SALESNAV_REFRESH_TOKEN, or --fake-api; the CRM streams alone need only SALESNAV_CLIENT_ID and SALESNAV_CLIENT_SECRET)")
		case (e.ClientID == "") != (e.ClientSecret == ""):
			bad(&e.ClientSecret, "SALESNAV_CLIENT_ID and SALESNAV_CLIENT_SECRET go together")
		case e.RefreshToken != "" && e.ClientID == "":
			bad(&e.RefreshToken, "needs SALESNAV_CLIENT_ID and SALESNAV_CLIENT_SECRET")
		}
	}
	e.resolveOAuth(c, bad)
	e.resolveGuards(c, now, bad)
	if e.TokenHosts != "" {
		c.API.TokenHosts = splitList(e.TokenHosts)
	}

	switch e.Sink {
	case "parquet":
	case "clickhouse":
		c.ClickHouse.DSN = e.ClickHouseDSN
		c.ClickHouse.Layout = e.layout(bad)
		if e.ClickHouseDSN == "" {
			bad(&e.ClickHouseDSN, "not set: SALESNAV_SINK=clickhouse needs clickhouse://user:password@host:9000/database")
		} else if err := c.ClickHouse.Validate(); err != nil {
			bad(&e.ClickHouseDSN, "%v", err)
		}
	default:
		bad(&e.Sink, "%q is not a sink (supported: parquet, clickhouse)", e.Sink)
	}
	c.Sink = e.Sink
	if strings.TrimSpace(e.ParquetDir) == "" {
		bad(&e.ParquetDir, "is empty")
	} else if storage.IsURL(e.ParquetDir) {
		if u, err := url.Parse(e.ParquetDir); err != nil {
			bad(&e.ParquetDir, "%q is not a URL: %v", e.ParquetDir, err)
		} else if !slices.Contains([]string{"s3", "gs", "azblob"}, u.Scheme) || u.Host == "" {
			bad(&e.ParquetDir, "%q: object storage is s3://bucket/prefix, gs://bucket/prefix or azblob://container/prefix", e.ParquetDir)
		}
	}
	c.Parquet.Dir = e.ParquetDir
	if e.S3Endpoint != "" {
		if u, err := url.Parse(e.S3Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(&e.S3Endpoint, "%q is not an http(s) URL", redactURL(e.S3Endpoint))
		}
	}
	c.Blob = storage.BlobOptions{S3Endpoint: e.S3Endpoint}

	seen := map[string]bool{}
	for _, name := range splitList(e.Streams) {
		st, err := schema.Lookup(name)
		if err != nil {
			bad(&e.Streams, "%v", err)
			continue
		}
		if !seen[name] {
			seen[name] = true
			c.Pipeline.Streams = append(c.Pipeline.Streams, st)
		}
	}
	if len(seen) == 0 && len(splitList(e.Streams)) == 0 {
		bad(&e.Streams, "no stream given")
	}
	for _, urn := range splitURNs(e.CRMInstances) {
		if _, _, err := pipeline.ParseCRMInstance(urn); err != nil {
			bad(&e.CRMInstances, "%v", err)
			continue
		}
		if !slices.Contains(c.Pipeline.CRMInstances, urn) {
			c.Pipeline.CRMInstances = append(c.Pipeline.CRMInstances, urn)
		}
	}
	for _, st := range c.Pipeline.Streams {
		if st.Extract == schema.CRMValidationExport && len(c.Pipeline.CRMInstances) == 0 && len(splitURNs(e.CRMInstances)) == 0 {
			bad(&e.CRMInstances, "not set: stream %s needs one or more urn:li:crmInstance:(PARTNER,ID), separated by commas or spaces", st.Name)
		}
	}
	if e.AssocKeysFile != "" {
		if f, err := os.Open(e.AssocKeysFile); err != nil {
			bad(&e.AssocKeysFile, "%v", err)
		} else {
			keys, err := pipeline.ReadAssociationKeys(f, e.AssocKeysFile)
			f.Close()
			if err != nil {
				bad(&e.AssocKeysFile, "%v", err)
			}
			c.Pipeline.AssociationKeys = keys
		}
	}
	c.Pipeline.AssociationBatch = parsed[int](e, &e.AssocBatch, bad)

	date := func(ptr *string) (time.Time, bool) {
		if *ptr == "" {
			return time.Time{}, false
		}
		t, err := time.Parse(time.DateOnly, *ptr)
		if err != nil {
			bad(ptr, "%q is not a date (want YYYY-MM-DD, UTC)", *ptr)
			return time.Time{}, false
		}
		return t, true
	}
	// Default end: today less LinkedIn's data delay (data is refreshed once
	// every 24 hours), so the last day loaded is complete.
	end := pipeline.Day(now.Add(-24 * time.Hour))
	if t, ok := date(&e.End); ok {
		end = t
	}
	start := end.AddDate(0, 0, -30)
	if t, ok := date(&e.Start); ok {
		start = t
		if !start.Before(end) {
			bad(&e.Start, "%s is not before the end %s", e.Start, end.Format(time.DateOnly))
		}
	}
	c.Pipeline.Start, c.Pipeline.End = start, end

	c.StatePath = e.StatePath
	if c.StatePath == "" {
		// In the bucket too when the dataset is.
		c.StatePath = storage.JoinLocation(e.ParquetDir, "_state.json")
	} else if storage.IsURL(c.StatePath) && c.Sink != "clickhouse" {
		if u, err := url.Parse(c.StatePath); err != nil || u.Host == "" || !strings.HasSuffix(u.Path, ".json") {
			bad(&e.StatePath, "%q is not a storage URL of a .json object", c.StatePath)
		}
	}
	c.Pipeline.Shard = e.shard(bad)
	// Each shard writes a state file of its own, and every run reads the
	// cursors of the other files of the family (load.OpenShardFileState).
	// A path that names a shard's file names the family; a sharded run
	// always writes the file of its own index.
	c.StatePeers = c.StatePath
	statePath, query := storage.CutQuery(c.StatePath) // a URL's options stay at its end
	if m := shardFile.FindStringSubmatch(statePath); m != nil {
		c.StatePeers = m[1] + m[3] + query
	}
	if c.Pipeline.Shard.Sharded() {
		c.StatePath = load.ShardStatePath(c.StatePeers, c.Pipeline.Shard.Index)
	}
	c.Pipeline.RejectsDir = e.RejectsDir
	if c.Pipeline.RejectsDir == "" {
		// In the bucket too when the dataset is.
		c.Pipeline.RejectsDir = storage.JoinLocation(e.ParquetDir, "_rejects")
	}

	c.Pipeline.MaxRejectRatio = parsed[float64](e, &e.MaxRejectRatio, bad)
	c.Pipeline.InvalidUTF8, _ = transform.ParseInvalidUTF8(parsed[string](e, &e.InvalidUTF8, bad))
	c.Pipeline.MaxRecordSize = parsed[int64](e, &e.MaxRecordSize, bad)
	c.Pipeline.Concurrency = parsed[int](e, &e.Concurrency, bad)
	c.Pipeline.BatchSize = parsed[int](e, &e.BatchSize, bad)
	c.Pipeline.PollInitial = parsed[time.Duration](e, &e.PollInterval, bad)
	c.Pipeline.PollMax = parsed[time.Duration](e, &e.PollMaxInterval, bad)
	c.Pipeline.JobTimeout = parsed[time.Duration](e, &e.JobTimeout, bad)
	c.Pipeline.RetryDelay = parsed[time.Duration](e, &e.RetryDelay, bad)
	c.API.QuotaBudget = parsed[time.Duration](e, &e.QuotaBudget, bad)
	c.GracePeriod = parsed[time.Duration](e, &e.GracePeriod, bad)
	c.LockWait = parsed[time.Duration](e, &e.LockWait, bad)
	c.Pipeline.DownloadAttempts = parsed[int](e, &e.DownloadTries, bad)
	c.Pipeline.JobRetries = parsed[int](e, &e.JobRetries, bad)
	if c.Pipeline.JobRetries == 0 {
		c.Pipeline.JobRetries = -1 // none; 0 means the default in pipeline
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(e.Lookback, "d")); err != nil || n < 0 || n > 89 {
		bad(&e.Lookback, "%q is not a number of days from 0 to 89 (such as 2d)", e.Lookback)
	} else {
		c.Pipeline.LookbackDays = n
	}
	if err := c.LogLevel.UnmarshalText([]byte(e.LogLevel)); err != nil {
		bad(&e.LogLevel, "%q is not a level (debug, info, warn, error)", e.LogLevel)
	}
	c.LogFormat = parsed[string](e, &e.LogFormat, bad)
	c.ProgressEvery = parsed[time.Duration](e, &e.ProgressEvery, bad)
	c.MetricsFile, c.MetricsInstance = e.MetricsFile, e.MetricsInstance
	if sh := c.Pipeline.Shard; sh.Sharded() {
		// Shards push apart: each its own last-success times.
		c.MetricsInstance = strings.TrimPrefix(c.MetricsInstance+"-shard-"+strconv.Itoa(sh.Index), "-")
	}
	if _, _, err := parseMemoryLimit(e.MemoryLimit); err != nil {
		bad(&e.MemoryLimit, "%v", err)
	}
	if e.PushgatewayURL != "" {
		if u, err := url.Parse(e.PushgatewayURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(&e.PushgatewayURL, "%q is not an http(s) URL", metrics.Redact(e.PushgatewayURL))
		}
		c.PushgatewayURL = e.PushgatewayURL
	}
	e.resolveLineage(c, bad)
	if len(errs) > 0 {
		return nil, &ConfigError{Problems: errs}
	}
	return c, nil
}

// layout is the ClickHouse table layout of the CLICKHOUSE_CLUSTER,
// CLICKHOUSE_ZK_PATH and CLICKHOUSE_REPLICA variables, each problem
// reported against its variable.
func (e *Env) layout(bad func(*string, string, ...any)) chsink.Layout {
	l := chsink.Layout{Cluster: strings.TrimSpace(e.CHCluster), ZKPath: e.CHZKPath, Replica: e.CHReplica}
	if l.Cluster == "" {
		return l
	}
	if err := (chsink.Layout{Cluster: l.Cluster}).Validate(); err != nil {
		bad(&e.CHCluster, "%v", err)
	}
	if err := (chsink.Layout{Cluster: l.Cluster, ZKPath: l.ZKPath}).Validate(); err != nil {
		bad(&e.CHZKPath, "%v", err)
	}
	if err := (chsink.Layout{Cluster: l.Cluster, Replica: l.Replica}).Validate(); err != nil {
		bad(&e.CHReplica, "%v", err)
	}
	return l
}
