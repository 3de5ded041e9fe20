package connector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Authentication types of Credentials.
const (
	// AuthOAuth renews member tokens with a refresh token (client id and
	// secret); CRM streams use client credentials.
	AuthOAuth = "oauth2.0"
	// AuthAccessToken is a member access token, for every stream.
	AuthAccessToken = "access_token"
)

// Defaults of Config.
const (
	DefaultAPIURL       = "https://api.linkedin.com/v2"
	DefaultLookbackDays = 2
	MaxLookbackDays     = 89
)

// Config is the connector configuration of the Airbyte and Singer
// commands: one JSON object, its fields in snake_case (ConfigSchema).
type Config struct {
	APIURL      string
	Credentials Credentials
	// StartDate is the first day a stream read from scratch loads;
	// EndDate the exclusive last day (zero: yesterday, UTC).
	StartDate, EndDate time.Time
	// Streams are the streams the connector offers (default: the
	// registry's default streams), in registry order.
	Streams         []*schema.Stream
	CRMInstances    []string
	AssociationKeys []extract.AssociationKey
	LookbackDays    int
	MaxRejectRatio  float64
}

// Credentials are how the connector authenticates.
type Credentials struct {
	AuthType     string
	ClientID     string
	ClientSecret string
	RefreshToken string
	AccessToken  string
}

// Secrets returns the credentials' secret values, for masking.
func (c Credentials) Secrets() []string {
	var out []string
	for _, s := range []string{c.ClientSecret, c.RefreshToken, c.AccessToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// configFields are the fields of the configuration, in ConfigSchema's
// order.
var configFields = []string{"credentials", "api_url", "start_date", "end_date", "streams", "crm_instances",
	"association_keys", "lookback_days", "max_reject_ratio"}

// ParseConfig reads a configuration and checks it, reporting every
// problem at once in a *ConfigError, each naming its field; a secret's
// value is never in a message. now is the clock of the default end date
// (yesterday) and of the check that the end date has come.
func ParseConfig(raw []byte, now time.Time) (Config, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Config{}, &ConfigError{Problems: []error{fmt.Errorf("not a JSON object: %v", jsonProblem(err))}}
	}
	p := &parser{fields: fields}
	c := Config{APIURL: DefaultAPIURL, LookbackDays: DefaultLookbackDays}
	for _, name := range sortedKeys(fields) {
		if !slices.Contains(configFields, name) {
			p.bad(name, "unknown field (known: %s)", strings.Join(configFields, ", "))
		}
	}
	p.str("api_url", &c.APIURL)
	p.checkURL("api_url", c.APIURL)
	c.Credentials = p.credentials()
	var start, end string
	if !p.str("start_date", &start) && missing(fields, "start_date") {
		p.bad("start_date", "required: the first day to load, YYYY-MM-DD (UTC)")
	}
	p.str("end_date", &end)
	c.StartDate, c.EndDate = p.date("start_date", start), p.date("end_date", end)
	p.dates(c.StartDate, c.EndDate, now)
	c.Streams = p.streams()
	c.CRMInstances = p.instances()
	c.AssociationKeys = p.keys()
	if p.int("lookback_days", &c.LookbackDays) && (c.LookbackDays < 0 || c.LookbackDays > MaxLookbackDays) {
		p.bad("lookback_days", "%d is not a number of days from 0 to %d", c.LookbackDays, MaxLookbackDays)
	}
	if p.number("max_reject_ratio", &c.MaxRejectRatio) && (c.MaxRejectRatio < 0 || c.MaxRejectRatio > 1) {
		p.bad("max_reject_ratio", "%v is not a ratio from 0 to 1", c.MaxRejectRatio)
	}
	for _, st := range c.Streams {
		if st.PerExport() && len(c.CRMInstances) == 0 {
			p.bad("crm_instances", "stream %s needs at least one urn:li:crmInstance:(PARTNER,ID)", st.Name)
		}
	}
	if len(p.problems) > 0 {
		return Config{}, &ConfigError{Problems: p.problems}
	}
	return c, nil
}

// End is the exclusive last day of a sync at now: EndDate, or yesterday.
func (c Config) End(now time.Time) time.Time {
	if !c.EndDate.IsZero() {
		return c.EndDate
	}
	return pipeline.Day(now.Add(-24 * time.Hour))
}

// parser decodes the fields of a configuration one by one, gathering
// every problem.
type parser struct {
	fields   map[string]json.RawMessage
	problems []error
}

func (p *parser) bad(field, format string, args ...any) {
	p.problems = append(p.problems, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

// decode decodes field into v when it is there and not null; want names
// the JSON type for a message. It reports whether v was set.
func (p *parser) decode(fields map[string]json.RawMessage, prefix, field, want string, v any) bool {
	raw, ok := fields[field]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		p.bad(prefix+field, "want %s", want)
		return false
	}
	return true
}

// missing reports whether field is absent or null.
func missing(fields map[string]json.RawMessage, field string) bool {
	raw, ok := fields[field]
	return !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func (p *parser) str(field string, v *string) bool {
	return p.decode(p.fields, "", field, "a string", v)
}

func (p *parser) int(field string, v *int) bool {
	var f float64
	if !p.decode(p.fields, "", field, "a whole number", &f) {
		return false
	}
	if f != float64(int(f)) {
		p.bad(field, "want a whole number, not %v", f)
		return false
	}
	*v = int(f)
	return true
}

func (p *parser) number(field string, v *float64) bool {
	return p.decode(p.fields, "", field, "a number", v)
}

// checkURL checks the API root: http(s), plain http on loopback only (a
// fake API).
func (p *parser) checkURL(field, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		p.bad(field, "%q is not an http(s) URL", raw)
		return
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		p.bad(field, "%q: plain http is allowed only on loopback (a fake API); use https", raw)
	}
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// date reads a YYYY-MM-DD day ("" is the zero time).
func (p *parser) date(field, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		p.bad(field, "%q is not a date (want YYYY-MM-DD, UTC)", s)
		return time.Time{}
	}
	return t
}

// dates checks the start and end days against each other and today.
func (p *parser) dates(start, end, now time.Time) {
	today := pipeline.Day(now)
	if !end.IsZero() && end.After(today) {
		p.bad("end_date", "%s is after today (%s, UTC): LinkedIn has no data for days to come", end.Format(time.DateOnly), today.Format(time.DateOnly))
	}
	last := end
	if last.IsZero() {
		last = Config{}.End(now)
	}
	if !start.IsZero() && !start.Before(last) {
		if end.IsZero() {
			p.bad("start_date", "%s is not before the default end date %s (yesterday, UTC)", start.Format(time.DateOnly), last.Format(time.DateOnly))
		} else {
			p.bad("start_date", "%s is not before end_date %s", start.Format(time.DateOnly), last.Format(time.DateOnly))
		}
	}
}

// streams reads the stream names, defaulting to the registry's defaults;
// the result is in registry order, without repeats.
func (p *parser) streams() []*schema.Stream {
	var names []string
	if !p.decode(p.fields, "", "streams", "an array of stream names", &names) {
		return schema.Defaults()
	}
	if len(names) == 0 {
		p.bad("streams", "empty: name one stream or more, or leave the field out for the default streams (%s)",
			strings.Join(schema.Names(schema.Defaults()), ", "))
	}
	picked := map[string]bool{}
	for i, n := range names {
		if _, err := schema.Lookup(n); err != nil {
			p.bad(fmt.Sprintf("streams[%d]", i), "%v", err)
			continue
		}
		picked[n] = true
	}
	var out []*schema.Stream
	for _, st := range schema.All() {
		if picked[st.Name] {
			out = append(out, st)
		}
	}
	return out
}

// instances reads the CRM instance URNs.
func (p *parser) instances() []string {
	var urns []string
	if !p.decode(p.fields, "", "crm_instances", "an array of urn:li:crmInstance:(PARTNER,ID) strings", &urns) {
		return nil
	}
	var out []string
	for i, u := range urns {
		if _, _, err := pipeline.ParseCRMInstance(u); err != nil {
			p.bad(fmt.Sprintf("crm_instances[%d]", i), "%v", err)
			continue
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// associationKey is one entry of association_keys.
type associationKey struct {
	InstanceID string `json:"instance_id"`
	Partner    string `json:"partner"`
	RecordID   string `json:"record_id"`
}

// keys reads the association keys looked up besides the CRM records.
func (p *parser) keys() []extract.AssociationKey {
	var raws []json.RawMessage
	if !p.decode(p.fields, "", "association_keys", "an array of {instance_id, partner, record_id} objects", &raws) {
		return nil
	}
	var out []extract.AssociationKey
	for i, raw := range raws {
		field := fmt.Sprintf("association_keys[%d]", i)
		var k associationKey
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&k); err != nil {
			p.bad(field, "want an object of instance_id, partner and record_id strings: %v", jsonProblem(err))
			continue
		}
		ok := true
		for _, f := range []struct{ name, v string }{{"instance_id", k.InstanceID}, {"partner", k.Partner}, {"record_id", k.RecordID}} {
			if strings.TrimSpace(f.v) == "" {
				p.bad(field+"."+f.name, "required")
				ok = false
			}
		}
		key := extract.AssociationKey{InstanceID: k.InstanceID, Partner: k.Partner, RecordID: k.RecordID}
		if ok && !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	return out
}

// jsonProblem is a decoding error's text without Go type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("a JSON %s where %s was expected", te.Value, strings.TrimPrefix(te.Type.String(), "connector."))
	}
	return err.Error()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
