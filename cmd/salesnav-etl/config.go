package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/pflag"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/internal/metrics"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// envPrefix prefixes every variable.
const envPrefix = "SALESNAV_"

// Env is the raw configuration: SALESNAV_* variables (read with
// go-envconfig, defaults applied), then flags on top. Values stay strings
// here so that every bad one can be reported at once by Resolve.
type Env struct {
	APIURL          string `env:"API_URL, default=https://api.linkedin.com/v2"`
	AccessToken     string `env:"ACCESS_TOKEN"`
	ClientID        string `env:"CLIENT_ID"`
	ClientSecret    string `env:"CLIENT_SECRET"`
	RefreshToken    string `env:"REFRESH_TOKEN"`
	TokenURL        string `env:"TOKEN_URL, default=https://www.linkedin.com/oauth/v2/accessToken"`
	TokenHosts      string `env:"TOKEN_HOSTS"`
	Sink            string `env:"SINK, default=parquet"`
	ParquetDir      string `env:"PARQUET_DIR, default=./out"`
	S3Endpoint      string `env:"S3_ENDPOINT"`
	ClickHouseDSN   string `env:"CLICKHOUSE_DSN"`
	CHCluster       string `env:"CLICKHOUSE_CLUSTER"`
	CHZKPath        string `env:"CLICKHOUSE_ZK_PATH, default=/clickhouse/tables/{shard}/{database}/{table}"`
	CHReplica       string `env:"CLICKHOUSE_REPLICA, default={replica}"`
	Streams         string `env:"STREAMS, default=contracts,seat,activity,activity_outcome"`
	Start           string `env:"START"`
	End             string `env:"END"`
	StatePath       string `env:"STATE_PATH"`
	RejectsDir      string `env:"REJECTS_DIR"`
	MaxRejectRatio  string `env:"MAX_REJECT_RATIO, default=0"`
	Concurrency     string `env:"CONCURRENCY, default=2"`
	PollInterval    string `env:"POLL_INTERVAL, default=2s"`
	PollMaxInterval string `env:"POLL_MAX_INTERVAL, default=1m"`
	JobTimeout      string `env:"JOB_TIMEOUT, default=3h"`
	JobRetries      string `env:"JOB_RETRIES, default=3"`
	RetryDelay      string `env:"RETRY_DELAY, default=1m"`
	DownloadTries   string `env:"DOWNLOAD_ATTEMPTS, default=3"`
	QuotaBudget     string `env:"QUOTA_BUDGET, default=2m"`
	Lookback        string `env:"LOOKBACK, default=2d"`
	GracePeriod     string `env:"GRACE_PERIOD, default=25s"`
	BatchSize       string `env:"BATCH_SIZE, default=65536"`
	LogLevel        string `env:"LOG_LEVEL, default=info"`
	CRMInstances    string `env:"CRM_INSTANCES"`
	AssocKeysFile   string `env:"ASSOCIATION_KEYS_FILE"`
	AssocBatch      string `env:"ASSOCIATION_BATCH_SIZE, default=100"`
	LogFormat       string `env:"LOG_FORMAT, default=auto"`
	ProgressEvery   string `env:"PROGRESS_INTERVAL, default=30s"`
	MetricsFile     string `env:"METRICS_FILE"`
	PushgatewayURL  string `env:"PUSHGATEWAY_URL"`
	MetricsInstance string `env:"METRICS_INSTANCE"`
	MemoryLimit     string `env:"MEMORY_LIMIT, default=auto"`
	Shard           string `env:"SHARD"`
	Shards          string `env:"SHARDS"`

	// jobIndex is Kubernetes' JOB_COMPLETION_INDEX (no prefix), the
	// shard of an Indexed Job's pod, with SALESNAV_SHARDS.
	jobIndex string

	// names maps a field to where its value came from, for messages.
	names map[*string]string
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
	e.names = map[*string]string{}
	for _, f := range e.fields() {
		e.names[f.ptr] = envPrefix + f.env
	}
	e.jobIndex, _ = lookup.Lookup("JOB_COMPLETION_INDEX")
	e.names[&e.jobIndex] = "JOB_COMPLETION_INDEX"
	return &e, nil
}

type envField struct {
	env string
	ptr *string
}

func (e *Env) fields() []envField {
	return []envField{
		{"API_URL", &e.APIURL}, {"ACCESS_TOKEN", &e.AccessToken}, {"TOKEN_HOSTS", &e.TokenHosts},
		{"CLIENT_ID", &e.ClientID}, {"CLIENT_SECRET", &e.ClientSecret}, {"REFRESH_TOKEN", &e.RefreshToken}, {"TOKEN_URL", &e.TokenURL},
		{"JOB_RETRIES", &e.JobRetries}, {"RETRY_DELAY", &e.RetryDelay}, {"DOWNLOAD_ATTEMPTS", &e.DownloadTries},
		{"QUOTA_BUDGET", &e.QuotaBudget}, {"LOOKBACK", &e.Lookback}, {"GRACE_PERIOD", &e.GracePeriod},
		{"SINK", &e.Sink}, {"PARQUET_DIR", &e.ParquetDir}, {"S3_ENDPOINT", &e.S3Endpoint}, {"CLICKHOUSE_DSN", &e.ClickHouseDSN}, {"CLICKHOUSE_CLUSTER", &e.CHCluster}, {"CLICKHOUSE_ZK_PATH", &e.CHZKPath}, {"CLICKHOUSE_REPLICA", &e.CHReplica}, {"STREAMS", &e.Streams},
		{"START", &e.Start}, {"END", &e.End}, {"STATE_PATH", &e.StatePath}, {"REJECTS_DIR", &e.RejectsDir},
		{"MAX_REJECT_RATIO", &e.MaxRejectRatio}, {"CONCURRENCY", &e.Concurrency},
		{"POLL_INTERVAL", &e.PollInterval}, {"POLL_MAX_INTERVAL", &e.PollMaxInterval},
		{"JOB_TIMEOUT", &e.JobTimeout}, {"BATCH_SIZE", &e.BatchSize}, {"LOG_LEVEL", &e.LogLevel},
		{"CRM_INSTANCES", &e.CRMInstances}, {"ASSOCIATION_KEYS_FILE", &e.AssocKeysFile}, {"ASSOCIATION_BATCH_SIZE", &e.AssocBatch},
		{"LOG_FORMAT", &e.LogFormat}, {"PROGRESS_INTERVAL", &e.ProgressEvery}, {"METRICS_FILE", &e.MetricsFile},
		{"PUSHGATEWAY_URL", &e.PushgatewayURL}, {"METRICS_INSTANCE", &e.MetricsInstance}, {"MEMORY_LIMIT", &e.MemoryLimit},
		{"SHARD", &e.Shard}, {"SHARDS", &e.Shards},
	}
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
	Parquet load.ParquetConfig
	// Blob configures object storage (a Parquet directory or state path
	// that is a URL).
	Blob       load.BlobOptions
	ClickHouse chsink.Config
	StatePath  string
	Pipeline   pipeline.Config
	LogLevel   slog.Level
	// Auth selects the token flow; GracePeriod bounds a graceful stop.
	Auth        extract.AuthConfig
	GracePeriod time.Duration
	// LogFormat is auto, json or text; ProgressEvery spaces progress log
	// lines when stderr is not a terminal (0: none).
	LogFormat     string
	ProgressEvery time.Duration
	// MetricsFile and PushgatewayURL receive the run's metrics at its end;
	// MetricsInstance is the Pushgateway's instance grouping key.
	MetricsFile, PushgatewayURL, MetricsInstance string
	// StatePeers is the unsharded state path: the state files of the
	// shards sit beside it (StatePath is this run's own file).
	StatePeers string
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
		crmOnly = crmOnly && slices.ContainsFunc(schema.CRMStreams, func(st *schema.Stream) bool { return st.Name == name })
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
		if u, err := url.Parse(e.TokenURL); err != nil || u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
			bad(&e.TokenURL, "%q is not an https URL", e.TokenURL)
		}
	}
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
	} else if load.IsURL(e.ParquetDir) {
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
	c.Blob = load.BlobOptions{S3Endpoint: e.S3Endpoint}

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
	if seen[schema.CRMValidation.Name] && len(c.Pipeline.CRMInstances) == 0 && len(splitURNs(e.CRMInstances)) == 0 {
		bad(&e.CRMInstances, "not set: stream %s needs one or more urn:li:crmInstance:(PARTNER,ID), separated by commas or spaces", schema.CRMValidation.Name)
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
	if n, err := strconv.Atoi(e.AssocBatch); err != nil || n < 1 || n > pipeline.MaxAssociationBatch {
		bad(&e.AssocBatch, "%q is not a whole number from 1 to %d", e.AssocBatch, pipeline.MaxAssociationBatch)
	} else {
		c.Pipeline.AssociationBatch = n
	}

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
		c.StatePath = load.JoinLocation(e.ParquetDir, "_state.json")
	} else if load.IsURL(c.StatePath) && c.Sink != "clickhouse" {
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
	statePath, query := load.CutQuery(c.StatePath) // a URL's options stay at its end
	if m := shardFile.FindStringSubmatch(statePath); m != nil {
		c.StatePeers = m[1] + m[3] + query
	}
	if c.Pipeline.Shard.Sharded() {
		c.StatePath = load.ShardStatePath(c.StatePeers, c.Pipeline.Shard.Index)
	}
	c.Pipeline.RejectsDir = e.RejectsDir
	if c.Pipeline.RejectsDir == "" {
		// In the bucket too when the dataset is.
		c.Pipeline.RejectsDir = load.JoinLocation(e.ParquetDir, "_rejects")
	}

	if r, err := strconv.ParseFloat(e.MaxRejectRatio, 64); err != nil || r < 0 || r > 1 {
		bad(&e.MaxRejectRatio, "%q is not a ratio between 0 and 1", e.MaxRejectRatio)
	} else {
		c.Pipeline.MaxRejectRatio = r
	}
	posInt := func(ptr *string, max int) int {
		n, err := strconv.Atoi(*ptr)
		if err != nil || n < 1 || n > max {
			bad(ptr, "%q is not a whole number from 1 to %d", *ptr, max)
		}
		return n
	}
	c.Pipeline.Concurrency = posInt(&e.Concurrency, 64)
	c.Pipeline.BatchSize = posInt(&e.BatchSize, 1<<22)
	dur := func(ptr *string) time.Duration {
		d, err := time.ParseDuration(*ptr)
		if err != nil || d <= 0 {
			bad(ptr, "%q is not a positive duration (such as 30s, 5m)", *ptr)
		}
		return d
	}
	c.Pipeline.PollInitial = dur(&e.PollInterval)
	c.Pipeline.PollMax = dur(&e.PollMaxInterval)
	c.Pipeline.JobTimeout = dur(&e.JobTimeout)
	c.Pipeline.RetryDelay = dur(&e.RetryDelay)
	c.API.QuotaBudget = dur(&e.QuotaBudget)
	c.GracePeriod = dur(&e.GracePeriod)
	c.Pipeline.DownloadAttempts = posInt(&e.DownloadTries, 20)
	if n, err := strconv.Atoi(e.JobRetries); err != nil || n < 0 || n > 20 {
		bad(&e.JobRetries, "%q is not a whole number from 0 to 20", e.JobRetries)
	} else {
		c.Pipeline.JobRetries = n
		if n == 0 {
			c.Pipeline.JobRetries = -1 // none; 0 means the default in pipeline
		}
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(e.Lookback, "d")); err != nil || n < 0 || n > 89 {
		bad(&e.Lookback, "%q is not a number of days from 0 to 89 (such as 2d)", e.Lookback)
	} else {
		c.Pipeline.LookbackDays = n
	}
	if err := c.LogLevel.UnmarshalText([]byte(e.LogLevel)); err != nil {
		bad(&e.LogLevel, "%q is not a level (debug, info, warn, error)", e.LogLevel)
	}
	switch e.LogFormat {
	case "auto", "json", "text":
		c.LogFormat = e.LogFormat
	default:
		bad(&e.LogFormat, "%q is not a log format (auto, json, text)", e.LogFormat)
	}
	if d, err := time.ParseDuration(e.ProgressEvery); err != nil || d < 0 {
		bad(&e.ProgressEvery, "%q is not a duration (such as 30s; 0 for none)", e.ProgressEvery)
	} else {
		c.ProgressEvery = d
	}
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
	if len(errs) > 0 {
		return nil, &ConfigError{Problems: errs}
	}
	return c, nil
}

// ConfigError lists every configuration problem.
type ConfigError struct{ Problems []error }

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

func (e *ConfigError) Unwrap() []error { return e.Problems }

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// splitURNs splits a list of URNs on commas and white space outside
// parentheses: urn:li:crmInstance:(SFDC,00D1),urn:li:crmInstance:(SFDC,00D2).
func splitURNs(s string) []string {
	var out []string
	depth, start := 0, 0
	flush := func(end int) {
		if p := strings.TrimSpace(s[start:end]); p != "" {
			out = append(out, p)
		}
	}
	for i, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')':
			depth = max(0, depth-1)
		case depth == 0 && (r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n'):
			flush(i)
			start = i + 1
		}
	}
	flush(len(s))
	return out
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// shard resolves SALESNAV_SHARD ("i/n"), or SALESNAV_SHARDS with
// Kubernetes' JOB_COMPLETION_INDEX; neither: the zero Shard (all).
func (e *Env) shard(bad func(ptr *string, format string, args ...any)) pipeline.Shard {
	switch {
	case e.Shard != "" && e.Shards != "":
		bad(&e.Shard, "set it or %s (with JOB_COMPLETION_INDEX), not both", e.names[&e.Shards])
	case e.Shard != "":
		sh, err := pipeline.ParseShard(e.Shard)
		if err != nil {
			bad(&e.Shard, "%v", err)
		}
		return sh
	case e.Shards != "":
		n, err := strconv.Atoi(e.Shards)
		if err != nil || n < 1 || n > 1000 {
			bad(&e.Shards, "%q is not a number of shards from 1 to 1000", e.Shards)
			return pipeline.Shard{}
		}
		if e.jobIndex == "" {
			bad(&e.Shards, "needs JOB_COMPLETION_INDEX, which Kubernetes sets in the pods of an Indexed Job; elsewhere set SALESNAV_SHARD=i/n")
			return pipeline.Shard{}
		}
		i, err := strconv.Atoi(e.jobIndex)
		if err != nil || i < 0 || i >= n {
			bad(&e.jobIndex, "%q is not a shard index from 0 to %d (SALESNAV_SHARDS=%d)", e.jobIndex, n-1, n)
			return pipeline.Shard{}
		}
		return pipeline.Shard{Index: i, Count: n}
	}
	return pipeline.Shard{}
}

// shardFile matches a shard's state file (out/_state.shard-2.json, or
// out/state.shard-2 without an extension): the stem, index and extension.
var shardFile = regexp.MustCompile(`^(.*)\.shard-([0-9]+)((?:\.[^./\\]*)?)$`)

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

// redactURL hides the password of a URL's user:password@ part.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if i := strings.LastIndexByte(raw, '@'); i >= 0 {
			return "xxxxx@" + raw[i+1:]
		}
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
