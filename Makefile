# salesnav-etl: see README.md.
GO ?= go

.PHONY: demo test build vet bench duckdb chdb clickhouse clean

# Run the main job on the embedded fake Sales Navigator API into ./out.
demo:
	$(GO) run ./cmd/salesnav-etl run --fake-api

# The whole test suite (what .ci/run runs). It installs what the tests use
# when missing: ClickHouse (apt, as root), DuckDB and chDB (npm).
test: clickhouse duckdb chdb
	$(GO) vet ./...
	$(GO) test -race ./...

# DuckDB (npm @duckdb/node-api), which the tests use to read the dataset back.
duckdb: tools/duckdb/node_modules/@duckdb/node-api

tools/duckdb/node_modules/@duckdb/node-api: tools/duckdb/package.json
	cd tools/duckdb && npm install --no-package-lock --no-audit --no-fund --loglevel=error

# chDB (npm chdb: a current ClickHouse in-process), which a test uses to run
# the generated DDL on a current engine.
chdb: tools/chdb/node_modules/chdb

tools/chdb/node_modules/chdb: tools/chdb/package.json
	cd tools/chdb && npm install --no-package-lock --no-audit --no-fund --loglevel=error

# Debian's clickhouse-server (18.16), which the tests start themselves.
clickhouse:
	@command -v clickhouse-server >/dev/null || test -x /usr/sbin/clickhouse-server || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server clickhouse-client; }

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build:
	$(GO) build -buildvcs=true -ldflags "-X main.version=$(VERSION)" -o bin/salesnav-etl ./cmd/salesnav-etl

vet:
	$(GO) vet ./...

# Micro-benchmarks of the transform (against arrow-go's CSV reader) and the Parquet sink.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 5x -count 3 ./transform ./load

clean:
	rm -rf bin out tools/duckdb/node_modules tools/chdb/node_modules
