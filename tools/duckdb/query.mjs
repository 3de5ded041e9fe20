// Runs each SQL argument in an in-memory DuckDB and prints its rows as one
// JSON array per line. Used by the Go tests (internal/testkit.DuckDB).
import { DuckDBInstance } from '@duckdb/node-api';

const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
for (const sql of process.argv.slice(2)) {
  const reader = await conn.runAndReadAll(sql);
  console.log(JSON.stringify(reader.getRowObjectsJson()));
}
