package cli

import "strings"

// ConfigError lists every configuration problem.
type ConfigError struct{ Problems []error }

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

func (e *ConfigError) Unwrap() []error { return e.Problems }
