// Command salesnav-etl loads LinkedIn Sales Navigator exports into a
// Parquet dataset or ClickHouse, incrementally. The command line lives in
// internal/cli; see docs/configuration.md.
package main

import "github.com/salesnav-etl/salesnav-etl/internal/cli"

// version and commit are set at build time:
// -ldflags "-X main.version=v1.2.3 -X main.commit=<sha>".
var version, commit = "dev", ""

func main() { cli.Main(version, commit) }
