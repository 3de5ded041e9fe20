package cli

import (
	"runtime/debug"
	"testing"
)

func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	t.Setenv("GOMEMLIMIT", "")
	got := applyMemoryLimit("auto")
	if got <= 0 || got > DefaultMemoryLimit || debug.SetMemoryLimit(-1) != got {
		t.Errorf("auto: limit %d (runtime %d), want at most %d", got, debug.SetMemoryLimit(-1), DefaultMemoryLimit)
	}
	if c := cgroupMemoryLimit(); c > 0 && got > c*3/4 {
		t.Errorf("limit %d above three quarters of the container's %d", got, c)
	}
	debug.SetMemoryLimit(before)
	if got := applyMemoryLimit("off"); got != 0 || debug.SetMemoryLimit(-1) != before {
		t.Errorf("off: applyMemoryLimit = %d and changed the limit", got)
	}
	if got := applyMemoryLimit("1GiB"); got != 1<<30 || debug.SetMemoryLimit(-1) != 1<<30 {
		t.Errorf("1GiB: %d", got)
	}
	debug.SetMemoryLimit(before)
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got := applyMemoryLimit("512MiB"); got != 0 || debug.SetMemoryLimit(-1) != before {
		t.Errorf("GOMEMLIMIT set: applyMemoryLimit = %d and changed the limit", got)
	}
	for _, bad := range []string{"lots", "-5MiB", "12TB"} {
		if _, _, err := parseMemoryLimit(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
