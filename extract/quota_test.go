package extract

import (
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"
)

func TestQuotaLeft(t *testing.T) {
	first := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		after time.Duration
		left  time.Duration
		spent bool
	}{
		{0, 2 * time.Minute, false},
		{90 * time.Second, 30 * time.Second, false},
		{2 * time.Minute, 0, true},
		{3 * time.Minute, -time.Minute, true},
	} {
		left, spent := quotaLeft(first, first.Add(tc.after), 2*time.Minute)
		if left != tc.left || spent != tc.spent {
			t.Errorf("after %v: %v, %v; want %v, %v", tc.after, left, spent, tc.left, tc.spent)
		}
	}
}

func TestBackOffLimit(t *testing.T) {
	b := &hintedBackOff{ExponentialBackOff: newTestBackOff(time.Hour)}
	b.hint, b.limit = 2*time.Hour, 3*time.Second
	if d := b.NextBackOff(); d != 3*time.Second {
		t.Errorf("limited wait %v, want 3s", d)
	}
	if d := b.NextBackOff(); d < time.Hour/2 {
		t.Errorf("the limit outlived its wait: %v", d)
	}
}

func newTestBackOff(initial time.Duration) *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = initial, 4*initial
	return b
}
