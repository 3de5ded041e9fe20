package promtest

import "errors"

// ErrNoValue is a series in the Pushgateway's answer with neither a value
// nor a count and sum.
var ErrNoValue = errors.New("a series with neither a value nor a count and sum")
