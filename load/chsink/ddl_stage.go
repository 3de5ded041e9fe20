package chsink

import (
	"fmt"
	"strings"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// CreateStage returns the statement of a staging table with the stream's
// very engine key, partitioning and order, but never replicated: the
// source of REPLACE PARTITION on a cluster node (a stage made AS the
// table would share its ZooKeeper path). cols are the table's, in its
// order.
func CreateStage(db, stage string, st *schema.Stream, cols []Column) (string, error) {
	t, err := qualified(db, stage)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s\n", t)
	if err := writeColumns(&b, cols); err != nil {
		return "", err
	}
	if err := (Layout{}).writeEngine(&b, db, st, false); err != nil {
		return "", err
	}
	return b.String(), nil
}

// CreateLogTable returns the statement creating a Log table of cols: the
// staging table of a window moved with INSERT … SELECT (a Log table takes
// no ALTER, so it is made with the window's own columns).
func CreateLogTable(db, name string, cols []Column) (string, error) {
	table, err := qualified(db, name)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s\n", table)
	if err := writeColumns(&b, cols); err != nil {
		return "", err
	}
	b.WriteString("\nENGINE = Log")
	return b.String(), nil
}
