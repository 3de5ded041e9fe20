package promtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Promtool runs Debian's promtool with args in dir and returns what it
// printed (stdout and stderr); an exit other than 0 is an error.
func Promtool(t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(Binary(t, "promtool"), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("running promtool %v: %w", args, err)
	}
	return string(out), nil
}

// CheckExprs checks PromQL expressions with promtool check rules, as the
// recording rules of a temporary rule file (RecordingRules). It returns
// promtool's output; an expression promtool rejects is an error.
func CheckExprs(t testing.TB, exprs []string) (string, error) {
	t.Helper()
	raw, err := RecordingRules("checked", exprs)
	if err != nil {
		return "", err
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), raw, 0o600); err != nil {
		return "", fmt.Errorf("writing the rule file: %w", err)
	}
	return Promtool(t, dir, "check", "rules", "rules.yml")
}
