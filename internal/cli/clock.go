package cli

import (
	"context"
	"time"
)

type clockKey struct{}

// withClock returns ctx carrying the clock now, which the commands that
// judge token expiries (auth login, auth status, the run's refresh token
// metric) read instead of time.Now: tests fix it.
func withClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

// clockOf is ctx's clock: the one withClock set, or time.Now.
func clockOf(ctx context.Context) func() time.Time {
	if now, ok := ctx.Value(clockKey{}).(func() time.Time); ok {
		return now
	}
	return time.Now
}
