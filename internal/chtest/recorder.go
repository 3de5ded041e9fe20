package chtest

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Statement is one statement a connection sent, as SQL text that runs on
// its own: query arguments bound as literals. A batch insert is its
// INSERT … (columns) head with the first rows it sent.
type Statement struct {
	SQL  string
	Rows [][]string // a batch insert's first rows, each value a SQL literal
}

// Insert reports whether s is a batch insert.
func (s Statement) Insert() bool { return s.Rows != nil }

// Text is the statement as it runs on its own: a batch insert as
// INSERT … VALUES of its recorded rows.
func (s Statement) Text() string {
	if !s.Insert() {
		return s.SQL
	}
	rows := make([]string, len(s.Rows))
	for i, r := range s.Rows {
		rows[i] = "(" + strings.Join(r, ", ") + ")"
	}
	return s.SQL + " VALUES " + strings.Join(rows, ", ")
}

// Recorder records the statements sent through the connections it wraps,
// in the order they were sent (a batch insert when its Send returns). It
// keeps statements that failed too, marked by Failed. It is safe for
// concurrent use.
type Recorder struct {
	// MaxRows is the rows kept per batch insert (default 3).
	MaxRows int

	mu     sync.Mutex
	stmts  []Statement
	failed []bool
}

// Wrap returns conn, recording what it sends (chsink.Config.WrapConn).
func (r *Recorder) Wrap(conn driver.Conn) driver.Conn {
	return &recConn{Conn: conn, r: r}
}

// Statements returns what was sent and succeeded, in order.
func (r *Recorder) Statements() []Statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Statement
	for i, s := range r.stmts {
		if !r.failed[i] {
			out = append(out, s)
		}
	}
	return out
}

func (r *Recorder) add(s Statement, err error) {
	r.mu.Lock()
	r.stmts = append(r.stmts, s)
	r.failed = append(r.failed, err != nil)
	r.mu.Unlock()
}

func (r *Recorder) maxRows() int {
	if r.MaxRows <= 0 {
		return 3
	}
	return r.MaxRows
}

type recConn struct {
	driver.Conn
	r *Recorder
}

func (c *recConn) Exec(ctx context.Context, query string, args ...any) error {
	err := c.Conn.Exec(ctx, query, args...)
	c.r.add(Statement{SQL: Bind(query, args...)}, err)
	return err
}

func (c *recConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	rows, err := c.Conn.Query(ctx, query, args...)
	c.r.add(Statement{SQL: Bind(query, args...)}, err)
	return rows, err
}

func (c *recConn) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	row := c.Conn.QueryRow(ctx, query, args...)
	c.r.add(Statement{SQL: Bind(query, args...)}, row.Err())
	return row
}

func (c *recConn) Select(ctx context.Context, dest any, query string, args ...any) error {
	err := c.Conn.Select(ctx, dest, query, args...)
	c.r.add(Statement{SQL: Bind(query, args...)}, err)
	return err
}

func (c *recConn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	b, err := c.Conn.PrepareBatch(ctx, query, opts...)
	if err != nil {
		c.r.add(Statement{SQL: query}, err)
		return nil, err
	}
	return &recBatch{Batch: b, r: c.r, head: query}, nil
}

// recBatch keeps the first rows of a batch, column by column or row by
// row, and records the insert when Send returns.
type recBatch struct {
	driver.Batch
	r    *Recorder
	head string
	cols map[int][]string // column index → literals, column-wise appends
	rows [][]string       // row-wise appends
}

func (b *recBatch) Append(v ...any) error {
	if len(b.rows) < b.r.maxRows() {
		row := make([]string, len(v))
		for i, x := range v {
			row[i] = Literal(x)
		}
		b.rows = append(b.rows, row)
	}
	return b.Batch.Append(v...)
}

func (b *recBatch) Column(i int) driver.BatchColumn {
	return &recColumn{BatchColumn: b.Batch.Column(i), b: b, i: i}
}

func (b *recBatch) Send() error {
	err := b.Batch.Send()
	rows := b.rows
	if len(b.cols) > 0 {
		n := -1
		for _, vals := range b.cols {
			if n < 0 || len(vals) < n {
				n = len(vals)
			}
		}
		for r := range n {
			row := make([]string, len(b.cols))
			for i := range row {
				row[i] = b.cols[i][r]
			}
			rows = append(rows, row)
		}
	}
	if rows == nil {
		rows = [][]string{}
	}
	b.r.add(Statement{SQL: b.head, Rows: rows}, err)
	return err
}

type recColumn struct {
	driver.BatchColumn
	b *recBatch
	i int
}

func (c *recColumn) Append(v any) error {
	if c.b.cols == nil {
		c.b.cols = map[int][]string{}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		for j := 0; j < rv.Len() && len(c.b.cols[c.i]) < c.b.r.maxRows(); j++ {
			c.b.cols[c.i] = append(c.b.cols[c.i], Literal(rv.Index(j).Interface()))
		}
	}
	return c.BatchColumn.Append(v)
}

func (c *recColumn) AppendRow(v any) error {
	if c.b.cols == nil {
		c.b.cols = map[int][]string{}
	}
	if len(c.b.cols[c.i]) < c.b.r.maxRows() {
		c.b.cols[c.i] = append(c.b.cols[c.i], Literal(v))
	}
	return c.BatchColumn.AppendRow(v)
}

// Literal renders a Go value as a ClickHouse literal: strings quoted and
// escaped, nil pointers NULL, times as UTC text ('2006-01-02' at
// midnight, which a Date and a DateTime both take).
func Literal(v any) string {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "NULL"
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return "NULL"
	}
	switch x := rv.Interface().(type) {
	case time.Time:
		x = x.UTC()
		if x.Equal(x.Truncate(24 * time.Hour)) {
			return "'" + x.Format(time.DateOnly) + "'"
		}
		return "'" + x.Format(time.DateTime) + "'"
	case string:
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(x) + "'"
	case bool:
		if x {
			return "1"
		}
		return "0"
	case float32, float64:
		return strconv.FormatFloat(rv.Float(), 'g', -1, 64)
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprint(rv.Interface())
	}
	panic(fmt.Sprintf("chtest.Literal: no literal for %T", v))
}

// Bind replaces each ? placeholder of query outside quotes with the
// literal of the next argument.
func Bind(query string, args ...any) string {
	if len(args) == 0 {
		return query
	}
	var b strings.Builder
	var quote byte
	n := 0
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case quote != 0:
			if ch == '\\' && i+1 < len(query) {
				b.WriteByte(ch)
				i++
				ch = query[i]
			} else if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '`' || ch == '"':
			quote = ch
		case ch == '?' && n < len(args):
			b.WriteString(Literal(args[n]))
			n++
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}
