package auth

import (
	"fmt"
	"regexp"

	"sigs.k8s.io/yaml"
)

// objectName is a DNS subdomain name (RFC 1123), what Kubernetes accepts
// as a Secret's name.
var objectName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// CheckObjectName reports whether name is a Kubernetes object name:
// lower-case letters, digits, '-' and '.', at most 253 characters.
func CheckObjectName(name string) error {
	if len(name) > 253 || !objectName.MatchString(name) {
		return fmt.Errorf("%w: %q (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253)", ErrObjectName, name)
	}
	return nil
}

// SecretManifest is a Kubernetes Secret named name holding vars (as
// stringData, for envFrom), with annotations (such as the tokens'
// expiries), in YAML.
func SecretManifest(name string, vars []Var, annotations map[string]string) ([]byte, error) {
	if err := CheckObjectName(name); err != nil {
		return nil, err
	}
	data := map[string]string{}
	for _, v := range vars {
		data[v.Name] = v.Value
	}
	meta := map[string]any{"name": name, "labels": map[string]string{"app.kubernetes.io/name": "salesnav-etl"}}
	if len(annotations) > 0 {
		meta["annotations"] = annotations
	}
	out, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta, "stringData": data})
	if err != nil {
		return nil, fmt.Errorf("writing the Secret manifest: %w", err)
	}
	return out, nil
}
