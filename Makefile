# salesnav-etl: see README.md.
GO ?= go
# bash with pipefail: a test piped through grep or tail still fails the target.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: demo test test-short build vet staticcheck fuzz chaos bench bench-assoc bench-flat duckdb chdb s3rver clickhouse zookeeper prometheus clean

# Run the main job on the embedded fake Sales Navigator API into ./out.
demo:
	$(GO) run ./cmd/salesnav-etl run --fake-api

# The whole test suite (what .ci/run runs). It installs what the tests use
# when missing: ClickHouse, ZooKeeper, promtool and the Pushgateway (apt, as
# root), DuckDB, chDB and s3rver (npm).
test: clickhouse zookeeper prometheus duckdb chdb s3rver
	$(GO) vet ./...
	$(MAKE) staticcheck
	$(GO) test -race -timeout 30m ./...
	$(MAKE) fuzz

# The fast tier: unit tests and in-process integration tests. Tests that
# start a server (ClickHouse, ZooKeeper, S3), run node (DuckDB, chDB) or
# build the binary skip under -short; make test runs them all.
test-short:
	$(GO) test -short -timeout 10m ./...

# staticcheck, installed with go install at a fixed version.
STATICCHECK_VERSION ?= v0.8.2

staticcheck:
	GOBIN="$(CURDIR)/bin" $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	bin/staticcheck ./...

# Each fuzz target for FUZZTIME (seed corpora: the f.Add seeds and
# testdata/fuzz/<target>; the transform's goldens). A crasher is written to
# testdata/fuzz/<target>/ and, committed, stays a regular test. The default
# is a count of executions, not a duration: Go 1.26's fuzzer can fail a
# duration run with a spurious "context deadline exceeded" as it ends
# (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
FUZZTIME ?= 30000x
FUZZ_TARGETS = ./extract:FuzzAssociationKeys ./extract:FuzzAPIAnswers ./transform:FuzzReader ./transform:FuzzCSVScanner ./internal/cli:FuzzConfig ./connector:FuzzJSONRows

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($${t%%:*}) for $(FUZZTIME)"; \
		log=$$(mktemp); \
		if $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}" > "$$log" 2>&1; then \
			tail -n 3 "$$log"; rm -f "$$log"; \
		else \
			cat "$$log"; rm -f "$$log"; exit 1; \
		fi; \
	done

# More chaos than CI runs: SEEDS fault seeds (TestChaos) and SEEDS crash
# episodes per sink (TestCrashSIGKILL).
SEEDS ?= 20

chaos: clickhouse duckdb
	SALESNAV_CHAOS_SEEDS=$(SEEDS) $(GO) test -count=1 -timeout 60m -run '^TestChaos$$' -v ./pipeline
	SALESNAV_CRASH_EPISODES=$(SEEDS) $(GO) test -count=1 -timeout 60m -run '^(TestCrashSIGKILL|TestClickHouseRestartedMidLoad)$$' -v ./internal/e2e

# DuckDB (npm @duckdb/node-api), which the tests use to read the dataset back.
duckdb: tools/duckdb/node_modules/@duckdb/node-api

tools/duckdb/node_modules/@duckdb/node-api: tools/duckdb/package.json
	cd tools/duckdb && npm install --no-package-lock --no-audit --no-fund --loglevel=error

# chDB (npm chdb: a current ClickHouse in-process), which a test uses to run
# the generated DDL on a current engine.
chdb: tools/chdb/node_modules/chdb

tools/chdb/node_modules/chdb: tools/chdb/package.json
	cd tools/chdb && npm install --no-package-lock --no-audit --no-fund --loglevel=error

# s3rver (npm), the S3-compatible server the object-storage tests start
# (MinIO instead when installed: SALESNAV_MINIO, bin/minio or on PATH).
s3rver: tools/s3rver/node_modules/s3rver

tools/s3rver/node_modules/s3rver: tools/s3rver/package.json
	cd tools/s3rver && npm install --no-package-lock --no-audit --no-fund --loglevel=error

# Debian's zookeeper (3.8), which the ClickHouse cluster tests start.
zookeeper:
	@test -f /usr/share/java/zookeeper.jar && command -v java >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zookeeper; }

# Debian's clickhouse-server (18.16), which the tests start themselves.
clickhouse:
	@{ command -v clickhouse-server >/dev/null || test -x /usr/sbin/clickhouse-server; } && command -v clickhouse-client >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server clickhouse-client; }

# Debian's prometheus (for promtool: the alert rules' unit tests, the
# dashboard's queries) and prometheus-pushgateway (2.42 and 1.5 here), which
# the tests run themselves: a Pushgateway on a free loopback port, in memory.
# The system services the packages may start on install (ports 9090, 9091)
# are stopped and disabled; the tests never use them.
prometheus:
	@{ command -v promtool >/dev/null || test -x /usr/bin/promtool; } && \
	{ command -v prometheus-pushgateway >/dev/null || test -x /usr/bin/prometheus-pushgateway; } || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus prometheus-pushgateway && \
		{ for s in prometheus prometheus-pushgateway; do invoke-rc.d $$s stop; update-rc.d $$s disable; done >/dev/null 2>&1; true; }; }

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build:
	$(GO) build -buildvcs=true -ldflags "-X main.version=$(VERSION)" -o bin/salesnav-etl ./cmd/salesnav-etl

vet:
	$(GO) vet ./...

# The benchmark: micro-benchmarks of each stage (parse, encode, partition,
# insert), then the end-to-end tables of two shapes, one day and many days:
# the connector against DuckDB's and clickhouse-client's own CSV loaders on
# the same exports of activity rows (docs/performance.md).
ROWS ?= 5000000
# The multi-day shape: MULTI_ROWS over MULTI_DAYS days, a partition a day.
MULTI_ROWS ?= 2000000
MULTI_DAYS ?= 20

bench: clickhouse zookeeper duckdb s3rver
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 5x -count 3 ./transform ./load/parquet
	$(GO) test -run '^$$' -bench . -benchtime 3x -count 1 ./load/chsink
	SALESNAV_BENCH=1 ROWS=$(ROWS) MULTI_ROWS=$(MULTI_ROWS) MULTI_DAYS=$(MULTI_DAYS) $(GO) test -count=1 -timeout 60m -run TestBenchHarness -v ./internal/bench
	$(MAKE) bench-assoc

# One profile_associations run adding NEW keys to a dataset of KEYS keys
# (Parquet): wall time, bytes read and written (docs/performance.md).
KEYS ?= 1000000
NEW ?= 10000
bench-assoc:
	SALESNAV_BENCH_ASSOC=1 KEYS=$(KEYS) NEW=$(NEW) $(GO) test -count=1 -timeout 30m -run TestBenchAssociations -v ./internal/bench

# Peak RSS on an export and on one ten times larger (FLAT_ROWS: the smaller).
FLAT_ROWS ?= 4000000

bench-flat:
	SALESNAV_BENCH_FLAT=1 ROWS=$(FLAT_ROWS) $(GO) test -count=1 -timeout 90m -run TestBenchFlatMemory -v ./internal/bench

clean:
	rm -rf bin out tools/duckdb/node_modules tools/chdb/node_modules tools/s3rver/node_modules
