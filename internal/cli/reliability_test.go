package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every row of docs/reliability.md's table names at least one test, and every
// test it names exists in the repository.
func TestReliabilityTableNamesTests(t *testing.T) {
	raw, err := os.ReadFile("../../docs/reliability.md")
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)\w+)\(`)
	err = filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && p != "../.." {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, "_test.go") {
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
				defined[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile("`((?:Test|Fuzz)\\w+)`")
	rows := 0
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| guarantee") {
			continue
		}
		rows++
		cells := strings.Split(line, "|")
		last := cells[len(cells)-2]
		names := name.FindAllStringSubmatch(last, -1)
		if len(names) == 0 {
			t.Errorf("a row names no test: %s", line)
		}
		for _, n := range names {
			if !defined[n[1]] {
				t.Errorf("docs/reliability.md names %s, which no test file defines", n[1])
			}
		}
	}
	if rows < 10 {
		t.Errorf("%d rows in docs/reliability.md's table", rows)
	}
}
