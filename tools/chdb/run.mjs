// Runs SQL statements, one per argument, in a chDB session (a current
// ClickHouse, in-process) and prints each result as one JSON line:
// {"ok":true,"out":"..."} or {"ok":false,"error":"..."}. Used by the Go tests.
import { Session } from 'chdb';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const session = new Session(mkdtempSync(join(tmpdir(), 'chdb-')));
for (const sql of process.argv.slice(2)) {
  try {
    console.log(JSON.stringify({ ok: true, out: session.query(sql, 'TSVRaw') }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e.message || e) }));
  }
}
session.cleanup?.();
