package main

import (
	"runtime/debug"
	"testing"
)

func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	t.Setenv("GOMEMLIMIT", "")
	got := applyMemoryLimit()
	if got <= 0 || got > DefaultMemoryLimit || debug.SetMemoryLimit(-1) != got {
		t.Errorf("limit %d (runtime %d), want at most %d", got, debug.SetMemoryLimit(-1), DefaultMemoryLimit)
	}
	if c := cgroupMemoryLimit(); c > 0 && got > c*3/4 {
		t.Errorf("limit %d above three quarters of the container's %d", got, c)
	}
	debug.SetMemoryLimit(before)
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got := applyMemoryLimit(); got != 0 || debug.SetMemoryLimit(-1) != before {
		t.Errorf("GOMEMLIMIT set: applyMemoryLimit = %d and changed the limit", got)
	}
}
