package auth_test

import (
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/salesnav-etl/salesnav-etl/auth"
)

func TestCheckObjectName(t *testing.T) {
	for name, ok := range map[string]bool{
		"salesnav-etl": true, "salesnav-etl.tokens": true, "a": true, "a1-b": true,
		"": false, "Salesnav": false, "-x": false, "x-": false, "x_y": false, "x/y": false, strings.Repeat("a", 254): false,
	} {
		if err := auth.CheckObjectName(name); (err == nil) != ok || (err != nil && !errors.Is(err, auth.ErrObjectName)) {
			t.Errorf("%q: %v, want ok %v", name, err, ok)
		}
	}
}

func TestSecretManifest(t *testing.T) {
	raw, err := auth.SecretManifest("salesnav-etl-tokens", []auth.Var{{Name: "SALESNAV_ACCESS_TOKEN", Value: "a: b # c"}, {Name: "SALESNAV_REFRESH_TOKEN", Value: "r"}},
		map[string]string{"salesnav-etl/refresh-token-expires-at": "2027-03-10T12:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		APIVersion, Kind, Type string
		Metadata               struct {
			Name        string
			Labels      map[string]string
			Annotations map[string]string
		}
		StringData map[string]string `json:"stringData"`
	}
	if err := yaml.UnmarshalStrict(raw, &m); err != nil {
		t.Fatalf("%v:\n%s", err, raw)
	}
	if m.APIVersion != "v1" || m.Kind != "Secret" || m.Type != "Opaque" || m.Metadata.Name != "salesnav-etl-tokens" ||
		m.StringData["SALESNAV_ACCESS_TOKEN"] != "a: b # c" || m.StringData["SALESNAV_REFRESH_TOKEN"] != "r" || len(m.StringData) != 2 ||
		m.Metadata.Annotations["salesnav-etl/refresh-token-expires-at"] != "2027-03-10T12:00:00Z" {
		t.Errorf("manifest:\n%s", raw)
	}
	if _, err := auth.SecretManifest("Bad_Name", nil, nil); !errors.Is(err, auth.ErrObjectName) {
		t.Errorf("bad name: %v", err)
	}
}
