package connector

import (
	"encoding/json"
	"strings"
)

// credentialFields are the fields of each authentication type; the
// secret ones are never echoed.
var credentialFields = map[string][]string{
	AuthOAuth:       {"auth_type", "client_id", "client_secret", "refresh_token"},
	AuthAccessToken: {"auth_type", "access_token"},
}

// credentials reads the credentials object.
func (p *parser) credentials() Credentials {
	var c Credentials
	var fields map[string]json.RawMessage
	if !p.decode(p.fields, "", "credentials", "an object", &fields) {
		if missing(p.fields, "credentials") {
			p.bad("credentials", `required: {"auth_type": "oauth2.0", "client_id", "client_secret", "refresh_token"} or {"auth_type": "access_token", "access_token"}`)
		}
		return c
	}
	const pre = "credentials."
	if !p.decode(fields, pre, "auth_type", "a string", &c.AuthType) {
		if missing(fields, "auth_type") {
			p.bad(pre+"auth_type", "required: %q or %q", AuthOAuth, AuthAccessToken)
		}
		return c
	}
	want, known := credentialFields[c.AuthType]
	if !known {
		p.bad(pre+"auth_type", "%q is not %q or %q", c.AuthType, AuthOAuth, AuthAccessToken)
		return c
	}
	for _, name := range sortedKeys(fields) {
		if !contains(want, name) {
			p.bad(pre+name, "not a field of auth_type %q (its fields: %s)", c.AuthType, strings.Join(want, ", "))
		}
	}
	targets := map[string]*string{"client_id": &c.ClientID, "client_secret": &c.ClientSecret,
		"refresh_token": &c.RefreshToken, "access_token": &c.AccessToken}
	for _, name := range want[1:] {
		v := targets[name]
		if p.decode(fields, pre, name, "a string", v) || missing(fields, name) {
			if strings.TrimSpace(*v) == "" {
				p.bad(pre+name, "required with auth_type %q", c.AuthType)
			}
		}
	}
	return c
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// SecretsIn returns the secret values of a configuration's text (those of
// credentials), as they are and as JSON escapes them, even of a text that
// is not a valid configuration: they are masked in all output before
// anything about the configuration is written.
func SecretsIn(raw []byte) []string {
	var doc struct {
		Credentials map[string]any `json:"credentials"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return nil
	}
	var out []string
	for _, name := range []string{"client_secret", "refresh_token", "access_token"} {
		s, ok := doc.Credentials[name].(string)
		if !ok || s == "" {
			continue
		}
		out = append(out, s)
		if line, err := MarshalLine(s); err == nil {
			if esc := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(string(line)), `"`), `"`); esc != s {
				out = append(out, esc)
			}
		}
		if esc := string(AppendString(nil, s)); esc[1:len(esc)-1] != s {
			out = append(out, esc[1:len(esc)-1])
		}
	}
	return out
}
