package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/pflag"

	"github.com/salesnav-etl/salesnav-etl/extract"
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
	TokenHosts      string `env:"TOKEN_HOSTS"`
	Sink            string `env:"SINK, default=parquet"`
	ParquetDir      string `env:"PARQUET_DIR, default=./out"`
	ClickHouseDSN   string `env:"CLICKHOUSE_DSN"`
	Streams         string `env:"STREAMS, default=seat,activity,activity_outcome"`
	Start           string `env:"START"`
	End             string `env:"END"`
	StatePath       string `env:"STATE_PATH"`
	RejectsDir      string `env:"REJECTS_DIR"`
	MaxRejectRatio  string `env:"MAX_REJECT_RATIO, default=0"`
	Concurrency     string `env:"CONCURRENCY, default=2"`
	PollInterval    string `env:"POLL_INTERVAL, default=2s"`
	PollMaxInterval string `env:"POLL_MAX_INTERVAL, default=1m"`
	JobTimeout      string `env:"JOB_TIMEOUT, default=3h"`
	BatchSize       string `env:"BATCH_SIZE, default=65536"`
	LogLevel        string `env:"LOG_LEVEL, default=info"`

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
	return &e, nil
}

type envField struct {
	env string
	ptr *string
}

func (e *Env) fields() []envField {
	return []envField{
		{"API_URL", &e.APIURL}, {"ACCESS_TOKEN", &e.AccessToken}, {"TOKEN_HOSTS", &e.TokenHosts},
		{"SINK", &e.Sink}, {"PARQUET_DIR", &e.ParquetDir}, {"CLICKHOUSE_DSN", &e.ClickHouseDSN}, {"STREAMS", &e.Streams},
		{"START", &e.Start}, {"END", &e.End}, {"STATE_PATH", &e.StatePath}, {"REJECTS_DIR", &e.RejectsDir},
		{"MAX_REJECT_RATIO", &e.MaxRejectRatio}, {"CONCURRENCY", &e.Concurrency},
		{"POLL_INTERVAL", &e.PollInterval}, {"POLL_MAX_INTERVAL", &e.PollMaxInterval},
		{"JOB_TIMEOUT", &e.JobTimeout}, {"BATCH_SIZE", &e.BatchSize}, {"LOG_LEVEL", &e.LogLevel},
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
	API        extract.Config
	Sink       string
	Parquet    load.ParquetConfig
	ClickHouse chsink.Config
	StatePath  string
	Pipeline   pipeline.Config
	LogLevel   slog.Level
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
	}
	c.API.BaseURL = e.APIURL
	c.API.Token = e.AccessToken
	if requireToken && strings.TrimSpace(e.AccessToken) == "" {
		bad(&e.AccessToken, "not set: a LinkedIn access token is required (or run with --fake-api)")
	}
	if e.TokenHosts != "" {
		c.API.TokenHosts = splitList(e.TokenHosts)
	}

	switch e.Sink {
	case "parquet":
	case "clickhouse":
		c.ClickHouse.DSN = e.ClickHouseDSN
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
	}
	c.Parquet.Dir = e.ParquetDir

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
		c.StatePath = filepath.Join(e.ParquetDir, "_state.json")
	}
	c.Pipeline.RejectsDir = e.RejectsDir
	if c.Pipeline.RejectsDir == "" {
		c.Pipeline.RejectsDir = filepath.Join(e.ParquetDir, "_rejects")
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
	if err := c.LogLevel.UnmarshalText([]byte(e.LogLevel)); err != nil {
		bad(&e.LogLevel, "%q is not a level (debug, info, warn, error)", e.LogLevel)
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

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
