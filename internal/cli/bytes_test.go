package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/salesnav-etl/salesnav-etl/transform"
)

// SALESNAV_INVALID_UTF8 and SALESNAV_MAX_RECORD_SIZE: their defaults, their
// values, and a bad value of each named.
func TestByteBoundsConfig(t *testing.T) {
	resolve := func(env map[string]string) (*Config, error) {
		env["SALESNAV_ACCESS_TOKEN"] = "x"
		e, err := LoadEnv(context.Background(), envconfig.MapLookuper(env))
		if err != nil {
			t.Fatal(err)
		}
		return e.Resolve(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), true)
	}
	cfg, err := resolve(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Pipeline.InvalidUTF8 != transform.RejectInvalidUTF8 || cfg.Pipeline.MaxRecordSize != 16<<20 {
		t.Errorf("defaults: %v, %d", cfg.Pipeline.InvalidUTF8, cfg.Pipeline.MaxRecordSize)
	}
	cfg, err = resolve(map[string]string{"SALESNAV_INVALID_UTF8": "replace", "SALESNAV_MAX_RECORD_SIZE": "512KiB"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Pipeline.InvalidUTF8 != transform.ReplaceInvalidUTF8 || cfg.Pipeline.MaxRecordSize != 512<<10 {
		t.Errorf("set: %v, %d", cfg.Pipeline.InvalidUTF8, cfg.Pipeline.MaxRecordSize)
	}
	_, err = resolve(map[string]string{"SALESNAV_INVALID_UTF8": "drop", "SALESNAV_MAX_RECORD_SIZE": "16MB"})
	for _, want := range []string{"SALESNAV_INVALID_UTF8", "SALESNAV_MAX_RECORD_SIZE"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}
