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

// State creates the state table when missing and returns the store.
func (s *Sink) State(ctx context.Context) (*State, error) {
	stmt, err := CreateStateTable(s.db)
	if err != nil {
		return nil, err
	}
	if err := s.conn.Exec(ctx, stmt); err != nil {
		return nil, fmt.Errorf("creating state table on ClickHouse %s: %w", s.redacted, err)
	}
	return &State{sink: s, now: time.Now}, nil
}

// Cursor returns the saved cursor of (stream, contract). Stream and
// contract are bound as values, never spliced into the SQL.
func (st *State) Cursor(ctx context.Context, stream, contract string) (time.Time, bool, error) {
	qdb, err := QuoteIdent(st.sink.db)
	if err != nil {
		return time.Time{}, false, err
	}
	q := fmt.Sprintf("SELECT cursor FROM %s.`%s` FINAL WHERE stream = ? AND contract = ?", qdb, StateTable)
	rows, err := st.sink.conn.Query(ctx, q, stream, contract)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("reading cursor of %s/%s: %w", stream, contract, err)
	}
	defer rows.Close()
	var cur time.Time
	found := false
	for rows.Next() {
		if err := rows.Scan(&cur); err != nil {
			return time.Time{}, false, fmt.Errorf("reading cursor of %s/%s: %w", stream, contract, err)
		}
		found = true
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, false, fmt.Errorf("reading cursor of %s/%s: %w", stream, contract, err)
	}
	if !found {
		return time.Time{}, false, nil
	}
	y, m, d := cur.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true, nil
}

// SetCursor inserts the new cursor; it is durable when the INSERT returns.
func (st *State) SetCursor(ctx context.Context, stream, contract string, cursor time.Time) error {
	ins, err := InsertColumns(st.sink.db, StateTable, []string{"stream", "contract", "cursor", "updated_at", "version"})
	if err != nil {
		return err
	}
	b, err := st.sink.conn.PrepareBatch(ctx, ins)
	if err != nil {
		return fmt.Errorf("saving cursor of %s/%s: %w", stream, contract, err)
	}
	now := st.now().UTC()
	if err := b.Append(stream, contract, cursor.UTC(), now, uint64(now.UnixNano())); err != nil {
		b.Abort()
		return fmt.Errorf("saving cursor of %s/%s: %w", stream, contract, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("saving cursor of %s/%s: %w", stream, contract, err)
	}
	return nil
}
