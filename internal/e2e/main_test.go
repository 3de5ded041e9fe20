package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the binary the suites built (realBinary).
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
