package chsink

import (
	"context"
	"fmt"
	"time"

	"github.com/salesnav-etl/salesnav-etl/load"
)

// State keeps cursors in the table _salesnav_state of the sink's database,
// so a CronJob pod needs no volume. Each SetCursor inserts a row; the
// newest version of a (stream, contract) wins (read with FINAL).
type State struct {
	sink *Sink
	now  func() time.Time
}

var _ load.StateStore = (*State)(nil)

// State creates the state tables when missing and returns the store.
func (s *Sink) State(ctx context.Context) (*State, error) {
	names, err := s.tableNames(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing tables on ClickHouse %s: %w", s.redacted, err)
	}
	for table, mk := range map[string]func(string) (string, error){StateTable: s.layout.CreateStateTable, JobsTable: s.layout.CreateJobsTable} {
		if names[table] {
			continue
		}
		stmt, err := mk(s.db)
		if err != nil {
			return nil, err
		}
		if err := s.execDDL(ctx, stmt, s.exists(ctx, table)); err != nil {
			return nil, fmt.Errorf("creating state tables on ClickHouse %s: %w", s.redacted, err)
		}
	}
	// Tables created before cursor_ms existed gain it (18.16 has no ADD
	// COLUMN IF NOT EXISTS).
	have, err := s.existingColumns(ctx, StateTable)
	if err != nil {
		return nil, err
	}
	if _, ok := have["cursor_ms"]; !ok {
		// Replicated to every node on a cluster: altered here, carried by
		// replication.
		if err := s.addColumn(ctx, s.conn, StateTable, cursorMs, false); err != nil {
			return nil, err
		}
	}
	return &State{sink: s, now: time.Now}, nil
}

// table quotes db.table.
func (st *State) table(name string) (string, error) { return qualified(st.sink.db, name) }

// Cursor returns the saved cursor of (stream, contract). Stream and
// contract are bound as values, never spliced into the SQL.
func (st *State) Cursor(ctx context.Context, stream, contract string) (time.Time, bool, error) {
	tbl, err := st.table(StateTable)
	if err != nil {
		return time.Time{}, false, err
	}
	rows, err := st.sink.conn.Query(ctx, "SELECT cursor, cursor_ms, deleted FROM "+tbl+" FINAL WHERE stream = ? AND contract = ?", stream, contract)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("reading cursor of %s/%s: %w", stream, contract, err)
	}
	defer rows.Close()
	var cur time.Time
	var ms int64
	var deleted uint8
	found := false
	for rows.Next() {
		if err := rows.Scan(&cur, &ms, &deleted); err != nil {
			return time.Time{}, false, fmt.Errorf("reading cursor of %s/%s: %w", stream, contract, err)
		}
		found = deleted == 0
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, false, fmt.Errorf("reading cursor of %s/%s: %w", stream, contract, err)
	}
	if !found {
		return time.Time{}, false, nil
	}
	return cursorOf(cur, ms), true, nil
}

// cursorOf is the cursor of a state row: cursor_ms when set, else the day.
func cursorOf(d time.Time, ms int64) time.Time {
	if ms != 0 {
		return time.UnixMilli(ms).UTC()
	}
	return day(d)
}

func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// insert writes one row through PrepareBatch (18.16 hangs on
// INSERT … VALUES through Exec).
func (st *State) insert(ctx context.Context, table string, cols []string, vals ...any) error {
	ins, err := InsertColumns(st.sink.db, table, cols)
	if err != nil {
		return err
	}
	b, err := st.sink.conn.PrepareBatch(ctx, ins)
	if err != nil {
		return err
	}
	if err := b.Append(vals...); err != nil {
		b.Abort()
		return err
	}
	return b.Send()
}

func (st *State) version() (time.Time, uint64) {
	now := st.now().UTC()
	return now, uint64(now.UnixNano())
}

var stateCols = []string{"stream", "contract", "cursor", "cursor_ms", "updated_at", "deleted", "version"}

// SetCursor inserts the new cursor; it is durable when the INSERT returns.
func (st *State) SetCursor(ctx context.Context, stream, contract string, cursor time.Time) error {
	if err := load.CheckCursor(cursor); err != nil {
		return fmt.Errorf("saving cursor of %s/%s: %w", stream, contract, err)
	}
	now, v := st.version()
	if err := st.insert(ctx, StateTable, stateCols, stream, contract, day(cursor.UTC()), cursor.UnixMilli(), now, uint8(0), v); err != nil {
		return fmt.Errorf("saving cursor of %s/%s: %w", stream, contract, err)
	}
	return nil
}

var jobCols = []string{"stream", "contract", "job_id", "window_start", "window_end", "created_at", "active", "version"}

// InFlight returns the job in flight of (stream, contract).
func (st *State) InFlight(ctx context.Context, stream, contract string) (*load.Job, error) {
	jobs, err := st.jobs(ctx, "WHERE stream = ? AND contract = ?", stream, contract)
	if err != nil || len(jobs) == 0 {
		return nil, err
	}
	return &jobs[0], nil
}

func (st *State) jobs(ctx context.Context, where string, args ...any) ([]load.Job, error) {
	tbl, err := st.table(JobsTable)
	if err != nil {
		return nil, err
	}
	rows, err := st.sink.conn.Query(ctx, "SELECT stream, contract, job_id, window_start, window_end, created_at, active FROM "+tbl+" FINAL "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("reading jobs in flight: %w", err)
	}
	defer rows.Close()
	var out []load.Job
	for rows.Next() {
		var j load.Job
		var active uint8
		if err := rows.Scan(&j.Stream, &j.Contract, &j.ID, &j.Start, &j.End, &j.CreatedAt, &active); err != nil {
			return nil, fmt.Errorf("reading jobs in flight: %w", err)
		}
		if active == 1 {
			j.Start, j.End, j.CreatedAt = day(j.Start), day(j.End), j.CreatedAt.UTC()
			out = append(out, j)
		}
	}
	return out, rows.Err()
}

// SetInFlight records a job in flight.
func (st *State) SetInFlight(ctx context.Context, j load.Job) error {
	_, v := st.version()
	if err := st.insert(ctx, JobsTable, jobCols, j.Stream, j.Contract, j.ID, j.Start.UTC(), j.End.UTC(), j.CreatedAt.UTC(), uint8(1), v); err != nil {
		return fmt.Errorf("saving job %d in flight: %w", j.ID, err)
	}
	return nil
}

// ClearInFlight forgets the job in flight of (stream, contract).
func (st *State) ClearInFlight(ctx context.Context, stream, contract string) error {
	now, v := st.version()
	if err := st.insert(ctx, JobsTable, jobCols, stream, contract, int64(0), now, now, now, uint8(0), v); err != nil {
		return fmt.Errorf("clearing the job in flight of %s/%s: %w", stream, contract, err)
	}
	return nil
}

// List returns every cursor and job in flight.
func (st *State) List(ctx context.Context) ([]load.Entry, error) {
	tbl, err := st.table(StateTable)
	if err != nil {
		return nil, err
	}
	rows, err := st.sink.conn.Query(ctx, "SELECT stream, contract, cursor, cursor_ms, updated_at, deleted FROM "+tbl+" FINAL")
	if err != nil {
		return nil, fmt.Errorf("reading state: %w", err)
	}
	defer rows.Close()
	idx := map[[2]string]*load.Entry{}
	for rows.Next() {
		var e load.Entry
		var cur time.Time
		var ms int64
		var deleted uint8
		if err := rows.Scan(&e.Stream, &e.Contract, &cur, &ms, &e.UpdatedAt, &deleted); err != nil {
			return nil, fmt.Errorf("reading state: %w", err)
		}
		if deleted == 0 {
			c := cursorOf(cur, ms)
			e.Cursor = &c
			idx[[2]string{e.Stream, e.Contract}] = &e
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	jobs, err := st.jobs(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		j := j
		k := [2]string{j.Stream, j.Contract}
		if idx[k] == nil {
			idx[k] = &load.Entry{Stream: j.Stream, Contract: j.Contract}
		}
		idx[k].Job = &j
	}
	out := make([]load.Entry, 0, len(idx))
	for _, e := range idx {
		out = append(out, *e)
	}
	load.SortEntries(out)
	return out, nil
}

// Reset forgets the cursor and job of stream for contract ("" for all).
func (st *State) Reset(ctx context.Context, stream, contract string) (int, error) {
	es, err := st.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range es {
		if e.Stream != stream || (contract != "" && e.Contract != contract) {
			continue
		}
		now, v := st.version()
		if err := st.insert(ctx, StateTable, stateCols, e.Stream, e.Contract, now, int64(0), now, uint8(1), v); err != nil {
			return n, fmt.Errorf("resetting %s/%s: %w", e.Stream, e.Contract, err)
		}
		if e.Job != nil {
			if err := st.ClearInFlight(ctx, e.Stream, e.Contract); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, nil
}
