# salesnav-etl: see README.md.
GO ?= go

.PHONY: demo test build vet bench duckdb clean

# Run the main job on the embedded fake Sales Navigator API into ./out.
demo:
	$(GO) run ./cmd/salesnav-etl run --fake-api

# The whole test suite (what .ci/run runs).
test:
	$(GO) vet ./...
	$(GO) test -race ./...

# DuckDB (npm @duckdb/node-api), which the tests use to read the dataset back.
duckdb: tools/duckdb/node_modules/@duckdb/node-api

tools/duckdb/node_modules/@duckdb/node-api: tools/duckdb/package.json
	cd tools/duckdb && npm install --no-package-lock --no-audit --no-fund --loglevel=error

build:
	$(GO) build -o bin/salesnav-etl ./cmd/salesnav-etl

vet:
	$(GO) vet ./...

# Micro-benchmarks of the transform (against arrow-go's CSV reader) and the Parquet sink.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 5x -count 3 ./transform ./load

clean:
	rm -rf bin out tools/duckdb/node_modules
