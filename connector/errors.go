package connector

import (
	"errors"
	"strings"
)

// Sentinel errors of the connector package.
var (
	// ErrPartialLine: a spooled window ends in the middle of a line.
	ErrPartialLine = errors.New("spooled records end without a newline")
	// ErrBadState: a state passed back (Airbyte's --state, Singer's
	// --state) cannot be read as this connector's state.
	ErrBadState = errors.New("state is not this connector's")
)

// ConfigError lists every problem of a connector configuration, each
// naming its field (credentials.client_id, start_date, streams[2]).
type ConfigError struct{ Problems []error }

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("invalid connector configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

func (e *ConfigError) Unwrap() []error { return e.Problems }
