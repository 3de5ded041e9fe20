// Package connector runs the pipeline for the data-integration protocols
// that speak JSON on standard output (the Airbyte source protocol and
// Singer taps; their messages are in the subpackages airbyte and singer):
// what both share.
//
//   - Config is the connector configuration both read (one JSON file,
//     snake_case), ConfigSchema its JSON schema, and ParseConfig checks a
//     file, reporting every problem at once, naming the field.
//   - StreamSchema, PrimaryKey and CursorField describe a stream of the
//     registry (package schema) as the protocols' catalogs do.
//   - Sink is a load.Sink that writes each committed window's rows as
//     record messages; State is a load.StateStore that starts from the
//     state the protocol passes back and emits a state message on each
//     change. A run of the pipeline with both keeps its checks, cursors,
//     fault handling and its rule that a cursor is saved only after its
//     window's rows are all out.
//   - Rows encodes Arrow record batches as JSON objects, by hand (no
//     reflection per value).
//   - Output serializes whole lines from many goroutines onto one writer.
package connector
