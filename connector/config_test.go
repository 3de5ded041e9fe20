package connector

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/connector/protocoltest"
	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

var today = time.Date(2026, 2, 11, 12, 0, 0, 0, time.UTC)

func TestParseConfigValid(t *testing.T) {
	c, err := ParseConfig([]byte(`{"credentials": {"auth_type": "oauth2.0", "client_id": "id", "client_secret": "sec", "refresh_token": "ref"},
		"start_date": "2026-01-01", "end_date": "2026-02-01", "streams": ["activity", "crm_validation", "contracts", "activity"],
		"crm_instances": ["urn:li:crmInstance:(SFDC,00D1)"], "association_keys": [{"instance_id": "00D1", "partner": "SFDC", "record_id": "r1"}],
		"lookback_days": 3, "max_reject_ratio": 0.01, "api_url": "http://127.0.0.1:8089/v2"}`), today)
	if err != nil {
		t.Fatal(err)
	}
	if got := schema.Names(c.Streams); !slices.Equal(got, []string{"contracts", "activity", "crm_validation"}) {
		t.Errorf("streams %v: want registry order, once each", got)
	}
	if c.Credentials != (Credentials{AuthType: AuthOAuth, ClientID: "id", ClientSecret: "sec", RefreshToken: "ref"}) ||
		c.LookbackDays != 3 || c.MaxRejectRatio != 0.01 || c.APIURL != "http://127.0.0.1:8089/v2" ||
		!c.StartDate.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || !c.End(today).Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) ||
		len(c.AssociationKeys) != 1 || c.AssociationKeys[0] != (extract.AssociationKey{InstanceID: "00D1", Partner: "SFDC", RecordID: "r1"}) {
		t.Errorf("parsed %+v", c)
	}
	c, err = ParseConfig([]byte(`{"credentials": {"auth_type": "access_token", "access_token": "tok"}, "start_date": "2026-01-01"}`), today)
	if err != nil {
		t.Fatal(err)
	}
	if c.APIURL != DefaultAPIURL || c.LookbackDays != DefaultLookbackDays || !slices.Equal(c.Streams, schema.Defaults()) ||
		!c.End(today).Equal(time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("defaults: %+v end %v", c, c.End(today))
	}
}

// Every problem at once, each naming its field; a secret's value never in
// a message.
func TestParseConfigProblems(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"not an object", `[1]`, []string{"not a JSON object"}},
		{"nothing", `{}`, []string{"credentials: required", "start_date: required"}},
		{"nulls", `{"credentials": {"auth_type": "access_token", "access_token": null}, "start_date": null}`,
			[]string{"credentials.access_token: required", "start_date: required"}},
		{"everything wrong", `{"credentials": {"auth_type": "oauth2.0", "client_secret": "s3cr3t-value", "access_token": "t0ken-value"},
			"start_date": "2026-13-01", "end_date": "2026-03-01", "streams": ["seat", "bogus"], "crm_instances": ["urn:li:crmInstance:SFDC"],
			"association_keys": [{"instance_id": "", "partner": "p"}], "lookback_days": 2.5, "max_reject_ratio": 2, "api_url": "http://api.example.com",
			"start-date": "x"}`,
			[]string{"start-date: unknown field", "credentials.client_id: required", "credentials.refresh_token: required",
				"credentials.access_token: not a field of auth_type \"oauth2.0\"", `start_date: "2026-13-01" is not a date`,
				"end_date: 2026-03-01 is after today", `streams[1]: unknown stream "bogus"`, "crm_instances[0]:",
				"association_keys[0].instance_id: required", "association_keys[0].record_id: required",
				"lookback_days: want a whole number, not 2.5", "max_reject_ratio: 2 is not a ratio", `api_url: "http://api.example.com": plain http`}},
		{"wrong types", `{"credentials": {"auth_type": "access_token", "access_token": 5}, "start_date": 20260101, "streams": "activity",
			"lookback_days": "2", "max_reject_ratio": "0.1"}`,
			[]string{"credentials.access_token: want a string", "start_date: want a string", "streams: want an array", "lookback_days: want a whole number", "max_reject_ratio: want a number"}},
		{"unknown auth", `{"credentials": {"auth_type": "basic"}, "start_date": "2026-01-01"}`, []string{`credentials.auth_type: "basic" is not`}},
		{"start not before end", `{"credentials": {"auth_type": "access_token", "access_token": "t"}, "start_date": "2026-02-01", "end_date": "2026-02-01"}`,
			[]string{"start_date: 2026-02-01 is not before end_date 2026-02-01"}},
		{"start after yesterday", `{"credentials": {"auth_type": "access_token", "access_token": "t"}, "start_date": "2026-02-10"}`,
			[]string{"start_date: 2026-02-10 is not before the default end date 2026-02-10"}},
		{"crm without instances", `{"credentials": {"auth_type": "access_token", "access_token": "t"}, "start_date": "2026-01-01", "streams": ["crm_validation"]}`,
			[]string{"crm_instances: stream crm_validation needs"}},
		{"no streams", `{"credentials": {"auth_type": "access_token", "access_token": "t"}, "start_date": "2026-01-01", "streams": []}`,
			[]string{"streams: empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.doc), today)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a *ConfigError", err)
			}
			if len(ce.Problems) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%v", len(ce.Problems), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("no problem %q in:\n%v", w, err)
				}
			}
			for _, sec := range []string{"s3cr3t-value", "t0ken-value"} {
				if strings.Contains(err.Error(), sec) {
					t.Errorf("the error shows the secret %s", sec)
				}
			}
		})
	}
}

// The configuration schema (Airbyte's connectionSpecification) accepts
// what ParseConfig accepts and names the same fields; secrets are marked.
func TestConfigSchema(t *testing.T) {
	sch := ConfigSchema()
	props := sch["properties"].(map[string]any)
	var names []string
	for n := range props {
		names = append(names, n)
	}
	slices.Sort(names)
	want := slices.Clone(configFields)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("schema properties %v, ParseConfig's fields %v", names, want)
	}
	compiled, err := protocoltest.Compile(sch)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, variant := range props["credentials"].(map[string]any)["oneOf"].([]any) {
		vp := variant.(map[string]any)["properties"].(map[string]any)
		auth := vp["auth_type"].(map[string]any)["const"].(string)
		if !slices.Equal(variant.(map[string]any)["required"].([]any), toAny(credentialFields[auth])) {
			t.Errorf("%s: required %v, ParseConfig wants %v", auth, variant.(map[string]any)["required"], credentialFields[auth])
		}
		for n, p := range vp {
			if p.(map[string]any)["airbyte_secret"] == true {
				secrets = append(secrets, n)
			}
		}
	}
	slices.Sort(secrets)
	if !slices.Equal(secrets, []string{"access_token", "client_secret", "refresh_token"}) {
		t.Errorf("airbyte_secret on %v", secrets)
	}
	for _, doc := range []string{
		`{"credentials": {"auth_type": "access_token", "access_token": "t"}, "start_date": "2026-01-01"}`,
		`{"credentials": {"auth_type": "oauth2.0", "client_id": "i", "client_secret": "s", "refresh_token": "r"}, "start_date": "2026-01-01",
		  "streams": ["crm_validation"], "crm_instances": ["urn:li:crmInstance:(SFDC,1)"], "lookback_days": 0, "max_reject_ratio": 0.5}`,
	} {
		var v any
		_ = json.Unmarshal([]byte(doc), &v)
		if err := protocoltest.ValidateAgainst(compiled, v); err != nil {
			t.Errorf("the schema refuses %s: %v", doc, err)
		}
		if _, err := ParseConfig([]byte(doc), today); err != nil {
			t.Errorf("ParseConfig refuses %s: %v", doc, err)
		}
	}
	for _, doc := range []string{
		`{"credentials": {"auth_type": "access_token"}, "start_date": "2026-01-01"}`,
		`{"credentials": {"auth_type": "access_token", "access_token": "t"}, "start_date": "2026-01-01", "streams": ["bogus"]}`,
		`{"credentials": {"auth_type": "access_token", "access_token": "t"}, "start_date": "2026-01-01", "lookback_days": 90}`,
		`{"credentials": {"auth_type": "access_token", "access_token": "t"}, "start_date": "01/01/2026"}`,
		`{"credentials": {"auth_type": "access_token", "access_token": "t"}, "start_date": "2026-01-01", "extra": 1}`,
	} {
		var v any
		_ = json.Unmarshal([]byte(doc), &v)
		if protocoltest.ValidateAgainst(compiled, v) == nil {
			t.Errorf("the schema accepts %s", doc)
		}
		if _, err := ParseConfig([]byte(doc), today); err == nil {
			t.Errorf("ParseConfig accepts %s", doc)
		}
	}
}

func toAny(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// SecretsIn finds the secrets of any configuration text, as they are and
// as JSON escapes them.
func TestSecretsIn(t *testing.T) {
	got := SecretsIn([]byte(`{"credentials": {"auth_type": "bogus", "client_secret": "a\"b<c", "refresh_token": "plain-refresh", "client_id": "visible"}, "start_date": 5}`))
	for _, w := range []string{`a"b<c`, `a\"b<c`, "plain-refresh"} {
		if !slices.Contains(got, w) {
			t.Errorf("%q not among %q", w, got)
		}
	}
	if slices.Contains(got, "visible") {
		t.Error("the client id is no secret")
	}
}
