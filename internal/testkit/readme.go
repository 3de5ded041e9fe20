package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// READMEQueries returns the statements of the README's sql block: the
// analysts' three queries, on database salesnav.
func READMEQueries(t testing.TB) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(raw), "```sql\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("README has no sql block")
	}
	var qs []string
	for _, q := range strings.Split(block, ";") {
		if q = strings.TrimSpace(q); q != "" {
			qs = append(qs, q)
		}
	}
	if len(qs) != 3 {
		t.Fatalf("README has %d queries, want 3", len(qs))
	}
	return qs
}

// READMEShell returns the lines of the first sh block of the README's
// section "## heading" (call it before a t.Chdir: it finds the README
// from the working directory).
func READMEShell(t testing.TB, heading string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## "+heading+"\n")
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok2 := strings.Cut(section, "```sh\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatalf("README has no sh block under ## %s", heading)
	}
	return strings.Split(strings.TrimSuffix(block, "\n"), "\n")
}
