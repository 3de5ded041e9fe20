package lineage

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Parent is the run that started this one: in Airflow, the task's run.
type Parent struct {
	Namespace, Job, RunID string
}

// ParseParent parses a parent run id as Airflow's OpenLineage provider
// renders it (the lineage_parent_id macro): "namespace/job/runId". The
// run id is a UUID and comes after the last "/"; the job comes before it,
// after the "/" before that: Airflow's job names ("dag_id.task_id") hold
// no "/" (Airflow allows none in ids), while its namespace, free text in
// its configuration, may. A value of another shape is ErrBadParent.
func ParseParent(s string) (Parent, error) {
	rest, runID, ok := cutLast(s, "/")
	if !ok {
		return Parent{}, fmt.Errorf("%q: %w", s, ErrBadParent)
	}
	namespace, job, ok := cutLast(rest, "/")
	if !ok || namespace == "" || job == "" {
		return Parent{}, fmt.Errorf("%q: %w", s, ErrBadParent)
	}
	// The canonical form only (36 characters): uuid.Parse also takes
	// braces, a urn:uuid: prefix and no hyphens, which the spec's "uuid"
	// format does not.
	id, err := uuid.Parse(runID)
	if err != nil || len(runID) != 36 {
		return Parent{}, fmt.Errorf("%q: run id %q: %w", s, runID, ErrBadParent)
	}
	return Parent{Namespace: namespace, Job: job, RunID: id.String()}, nil
}

// cutLast slices s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
