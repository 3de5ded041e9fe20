package main

import (
	"fmt"
	"reflect"
	"strings"
)

// varDoc documents one SALESNAV_* variable: the flag that overrides it, if
// any, and what it does. Defaults come from Env's struct tags, so --help
// and the code cannot disagree; a test checks that every variable of Env is
// here and in the README's table.
type varDoc struct {
	Env, Flag, Doc string
}

var varDocs = []varDoc{
	{"API_URL", "", "API root"},
	{"ACCESS_TOKEN", "", "OAuth2 bearer token of the member (or the refresh-token flow); never logged"},
	{"CLIENT_ID", "", "LinkedIn application id: with the secret and a refresh token, member tokens are renewed; with the secret, CRM and profile calls use client credentials"},
	{"CLIENT_SECRET", "", "LinkedIn application secret; never logged"},
	{"REFRESH_TOKEN", "", "the member's refresh token (365 days); never logged"},
	{"TOKEN_URL", "", "OAuth2 token endpoint"},
	{"TOKEN_HOSTS", "", "extra hosts that may receive the token on downloads (default: the API's and LinkedIn's)"},
	{"SINK", "", "parquet or clickhouse"},
	{"PARQUET_DIR", "parquet-dir", "dataset root: a local directory, or s3://bucket/prefix, gs://bucket/prefix, azblob://container/prefix (credentials from the provider's standard chain)"},
	{"S3_ENDPOINT", "", "base URL of an S3-compatible server (MinIO, Ceph, R2): path-style requests, region us-east-1 unless AWS_REGION says otherwise"},
	{"CLICKHOUSE_DSN", "", "clickhouse://user:password@host:9000/database (SALESNAV_SINK=clickhouse); the password is never logged"},
	{"CLICKHOUSE_CLUSTER", "", "a cluster of the servers' remote_servers: every DDL ON CLUSTER, tables ReplicatedReplacingMergeTree, a Distributed table <stream>_dist per stream that the views read (default: a single server)"},
	{"CLICKHOUSE_ZK_PATH", "", "ZooKeeper path of the replicated tables (SALESNAV_CLICKHOUSE_CLUSTER): {database} and {table} filled in, other macros by each server; tables replicated to every node (state, dimensions) get {shard}=all"},
	{"CLICKHOUSE_REPLICA", "", "replica name of the replicated tables, unique per node of the cluster (a server macro by default)"},
	{"STREAMS", "streams", "streams to run; also crm_validation, profile_associations"},
	{"CRM_INSTANCES", "", "urn:li:crmInstance:(PARTNER,ID) URNs for crm_validation, separated by commas or spaces (--fake-api: two fake instances)"},
	{"ASSOCIATION_KEYS_FILE", "", "CSV of instanceId,partner,recordId that profile_associations looks up besides the CRM validation records"},
	{"ASSOCIATION_BATCH_SIZE", "", "keys per profile association batch lookup (1-500)"},
	{"START", "from", "first day of a first run, YYYY-MM-DD UTC (default: end - 30 days); --from with --to backfills"},
	{"END", "to", "exclusive last day, YYYY-MM-DD UTC (default: yesterday)"},
	{"STATE_PATH", "state-path", "state file of the Parquet sink, a path or an object URL (default: <parquet dir>/_state.json)"},
	{"REJECTS_DIR", "", "rejected rows, as JSON Lines: a directory or an object URL (default: <parquet dir>/_rejects)"},
	{"MAX_REJECT_RATIO", "", "share of a window's rows that may be rejected and the window still load"},
	{"CONCURRENCY", "", "contracts at once (one export job per contract at a time)"},
	{"POLL_INTERVAL", "", "first poll delay, doubling"},
	{"POLL_MAX_INTERVAL", "", "longest poll delay"},
	{"JOB_TIMEOUT", "", "longest wait for one export job"},
	{"JOB_RETRIES", "", "new jobs after TIMED_OUT or INTERNAL_ERROR"},
	{"RETRY_DELAY", "", "wait before the first of them, doubling"},
	{"DOWNLOAD_ATTEMPTS", "", "tries of a file: expired URL, dropped connection, short file"},
	{"QUOTA_BUDGET", "", "429s with no success in between before the run stops (exit 75)"},
	{"LOOKBACK", "", "days re-extracted before the cursor, for late data"},
	{"GRACE_PERIOD", "", "after SIGTERM, time to finish the window being loaded"},
	{"BATCH_SIZE", "", "rows per Arrow record batch"},
	{"LOG_LEVEL", "", "debug, info, warn, error"},
	{"LOG_FORMAT", "", "auto (text on a terminal, JSON otherwise), json or text"},
	{"PROGRESS_INTERVAL", "", "not on a terminal: a progress log line this often (0: none)"},
	{"METRICS_FILE", "", "write Prometheus metrics here at the end of a run (node_exporter textfile collector)"},
	{"PUSHGATEWAY_URL", "", "push Prometheus metrics to this Pushgateway at the end of a run"},
	{"METRICS_INSTANCE", "", "Pushgateway grouping key instance, to tell deployments apart"},
	{"MEMORY_LIMIT", "", "the Go runtime's soft memory limit: auto (3/4 of the container's limit, at most 256MiB), off, or a size such as 512MiB; GOMEMLIMIT wins"},
	{"SHARD", "shard", "i/n: this run takes the contracts and CRM instances of shard i of n (a stable hash); shard 0 also loads contracts and profile_associations"},
	{"SHARDS", "", "n, with Kubernetes' JOB_COMPLETION_INDEX as i (Indexed Jobs): the same as SALESNAV_SHARD=i/n"},
}

// envDefaults maps each Env variable (without the prefix) to its default,
// read from the struct tags.
func envDefaults() map[string]string {
	out := map[string]string{}
	t := reflect.TypeOf(Env{})
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("env")
		if tag == "" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		def := ""
		if _, d, ok := strings.Cut(opts, "default="); ok {
			def = d
		}
		out[strings.TrimSpace(name)] = def
	}
	return out
}

// variablesHelp renders every variable for --help: name, flag, default,
// and what it does.
func variablesHelp() string {
	defs := envDefaults()
	var b strings.Builder
	b.WriteString("Configuration (environment; flags override):\n")
	for _, v := range varDocs {
		line := "  " + envPrefix + v.Env
		if v.Flag != "" {
			line += " (--" + v.Flag + ")"
		}
		fmt.Fprintf(&b, "%s\n      %s", line, v.Doc)
		if d := defs[v.Env]; d != "" {
			fmt.Fprintf(&b, " [default %s]", d)
		}
		b.WriteString("\n")
	}
	return b.String()
}
