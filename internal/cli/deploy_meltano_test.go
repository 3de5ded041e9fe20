package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Issue 20: deploy/meltano/meltano.yml runs salesnav-etl as a Singer
// extractor. Its settings are the connector configuration's fields (nested
// with dots), the secret ones sensitive; its executable is the name under
// which the binary is the tap; its capabilities the tap's; its config,
// with a secret from the environment, a valid configuration; its select
// rules name streams there are.
func TestMeltanoExtractor(t *testing.T) {
	doc := readYAML(t, "../../deploy/meltano/meltano.yml")
	ex := dig(t, doc, "plugins", "extractors", 0)
	if dig(t, ex, "executable") != singerTap {
		t.Errorf("executable %v, want %s (commandArgs)", dig(t, ex, "executable"), singerTap)
	}
	caps := toStrings(dig(t, ex, "capabilities"))
	for _, c := range []string{"catalog", "discover", "state"} {
		if !slices.Contains(caps, c) {
			t.Errorf("capabilities %v lack %s", caps, c)
		}
	}
	spec := connector.ConfigSchema()["properties"].(map[string]any)
	creds := map[string]bool{}
	var secrets []string
	for _, variant := range spec["credentials"].(map[string]any)["oneOf"].([]any) {
		for name, p := range variant.(map[string]any)["properties"].(map[string]any) {
			creds[name] = true
			if p.(map[string]any)["airbyte_secret"] == true && !slices.Contains(secrets, name) {
				secrets = append(secrets, name)
			}
		}
	}
	named := map[string]bool{}
	for _, s := range dig(t, ex, "settings").([]any) {
		name := dig(t, s, "name").(string)
		named[name] = true
		top, sub, nested := strings.Cut(name, ".")
		if _, ok := spec[top]; !ok || (nested && (top != "credentials" || !creds[sub])) {
			t.Errorf("setting %s is no field of the configuration", name)
		}
		if sensitive, _ := dig(t, s, "sensitive").(bool); sensitive != (nested && slices.Contains(secrets, sub)) {
			t.Errorf("setting %s: sensitive %v", name, sensitive)
		}
	}
	for name := range spec {
		if name != "credentials" && !named[name] {
			t.Errorf("the configuration's field %s has no setting", name)
		}
	}
	for c := range creds {
		if !named["credentials."+c] {
			t.Errorf("credentials.%s has no setting", c)
		}
	}
	cfg := dig(t, ex, "config").(map[string]any)
	cfg["credentials"].(map[string]any)["access_token"] = "from-the-environment"
	raw, _ := json.Marshal(cfg)
	if _, err := connector.ParseConfig(raw, time.Date(2026, 2, 11, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("the config, with its secret: %v", err)
	}
	for _, rule := range toStrings(dig(t, ex, "select")) {
		if _, err := schema.Lookup(strings.TrimPrefix(strings.Split(rule, ".")[0], "!")); err != nil {
			t.Errorf("select %s: %v", rule, err)
		}
	}
}
