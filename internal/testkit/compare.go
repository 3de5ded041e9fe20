package testkit

import (
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
)

// Stripped is rows (a Target's canonical JSON rows) without the times a
// run stamps on dimensions (seenAt, fetchedAt), sorted: two runs that
// loaded the same data give the same list.
func Stripped(rows []string) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		var m map[string]any
		json.Unmarshal([]byte(r), &m)
		delete(m, "seenAt")
		delete(m, "fetchedAt")
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

// ExitCode is the exit code of a finished child process: its code, 0
// without an error, -1 for an error that is not an exit (it did not run).
func ExitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
