package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// Any values of the SALESNAV_* variables: LoadEnv and Resolve answer a
// configuration or an error naming a variable, never panic; a
// configuration they accept passes the pipeline's own Validate.
func FuzzConfig(f *testing.F) {
	f.Add("API_URL=https://api.linkedin.com/v2\nACCESS_TOKEN=t\nPARQUET_DIR=/tmp/x\nSTART=2026-01-01\nEND=2026-02-01")
	f.Add("SINK=clickhouse\nCLICKHOUSE_DSN=clickhouse://u:p@h:9000/db\nACCESS_TOKEN=t\nCONCURRENCY=4\nMAX_REJECT_RATIO=0.5")
	f.Add("STREAMS=crm_validation,profile_associations\nCLIENT_ID=a\nCLIENT_SECRET=b\nCRM_INSTANCES=urn:li:crmInstance:(SFDC,1) urn:li:crmInstance:(X,(y))")
	f.Add("POLL_INTERVAL=1ns\nPOLL_MAX_INTERVAL=-5s\nMEMORY_LIMIT=12XiB\nSTART=2026-13-40\nASSOCIATION_BATCH_SIZE=0")
	f.Add("MEMORY_LIMIT=off\nLOG_FORMAT=json\nPROGRESS_INTERVAL=0\nTOKEN_HOSTS=a,,b\nAPI_URL=http://[::1]:x/v2")
	f.Add("ACCESS_TOKEN=t\nREDIRECT_URL=http://[::1]:0/x#y\nSCOPES=a,,b c\nAUTH_URL=http://localhost\nTOKEN_URL=https://h/p?q=1")
	f.Fuzz(func(t *testing.T, in string) {
		env := map[string]string{}
		for _, line := range strings.Split(in, "\n") {
			k, v, _ := strings.Cut(line, "=")
			env["SALESNAV_"+k] = v
		}
		ctx := context.Background()
		e, err := LoadEnv(ctx, envconfig.MapLookuper(env))
		if err != nil {
			if !strings.Contains(err.Error(), "SALESNAV_") && !strings.Contains(err.Error(), "environment") {
				t.Fatalf("error names no variable: %v", err)
			}
			return
		}
		cfg, err := e.Resolve(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), true)
		if err != nil {
			if !strings.Contains(err.Error(), "SALESNAV_") {
				t.Fatalf("error names no variable: %v", err)
			}
			return
		}
		if err := cfg.Pipeline.Validate(); err != nil {
			t.Fatalf("Resolve accepted a configuration the pipeline refuses: %v\n%s", err, in)
		}
	})
}
