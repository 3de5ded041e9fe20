package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/salesnav-etl/salesnav-etl/load/storage"
)

// Var is a variable of an env file.
type Var struct{ Name, Value string }

// WriteEnvFile sets vars in the env file at path and removes the
// variables of drop, keeping every other line (UpdateEnv); the file is
// written through a temporary file and a rename, with mode 0600 (a file
// that was more open becomes 0600). A missing file is created.
func WriteEnvFile(path string, vars []Var, drop []string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading the env file: %w", err)
	}
	if err := storage.WriteFileAtomic(path, UpdateEnv(old, vars, drop), 0o600); err != nil {
		return fmt.Errorf("writing the env file: %w", err)
	}
	return nil
}

// UpdateEnv returns an env file's content with each of vars set: the
// first line that sets it (NAME=…, or export NAME=…) replaced, later ones
// removed, and a variable no line sets appended, in vars' order. Lines
// that set a variable of drop are removed; every other line (comments,
// other variables, blank lines) is kept as it is.
func UpdateEnv(content []byte, vars []Var, drop []string) []byte {
	var out []string
	done := map[string]bool{}
	text := string(content)
	if text != "" {
		for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			name, export := envName(line)
			i := slices.IndexFunc(vars, func(v Var) bool { return v.Name == name })
			switch {
			case name == "":
				out = append(out, line)
			case slices.Contains(drop, name):
			case i < 0:
				out = append(out, line)
			case !done[name]:
				done[name] = true
				out = append(out, export+envLine(vars[i]))
			}
		}
	}
	for _, v := range vars {
		if !done[v.Name] {
			out = append(out, envLine(v))
		}
	}
	if len(out) == 0 {
		return nil
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

var envNameRe = regexp.MustCompile(`^[ \t]*(export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=`)

// envName is the variable a line sets ("" for none) and its export
// prefix.
func envName(line string) (name, export string) {
	m := envNameRe.FindStringSubmatch(line)
	if m == nil {
		return "", ""
	}
	if m[1] != "" {
		export = "export "
	}
	return m[2], export
}

// plainValue is a value a shell reads as it is: no quoting needed.
var plainValue = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,^-]*$`)

// envLine writes NAME=value, the value single-quoted when a shell
// sourcing the file would otherwise change it.
func envLine(v Var) string {
	if plainValue.MatchString(v.Value) {
		return v.Name + "=" + v.Value
	}
	return v.Name + "='" + strings.ReplaceAll(v.Value, "'", `'\''`) + "'"
}
