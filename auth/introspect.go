package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/internal/secret"
)

// Introspection is what LinkedIn's token introspection says of a token.
type Introspection struct {
	Active bool
	// Status is LinkedIn's word (active, expired, revoked…); "" when the
	// answer has none.
	Status string
	// CreatedAt and ExpiresAt are zero when the answer does not say.
	CreatedAt, ExpiresAt time.Time
	Scopes               []string
	// AuthType is 2L, 3L or Enterprise_User; "" when not said.
	AuthType string
}

// Introspect asks the introspection endpoint (POST, form client_id,
// client_secret, token) about token, through hc (nil: a client with a
// 30-second timeout) with redirects to another host refused. An error
// never holds the secret or the token.
func Introspect(ctx context.Context, hc *http.Client, endpoint, clientID, clientSecret, token string) (*Introspection, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	form := url.Values{"client_id": {clientID}, "client_secret": {clientSecret}, "token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("introspecting a token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	scrub := func(err error) error { return secret.Scrub(err, clientSecret, token) }
	resp, err := extract.TokenEndpointClient(hc).Do(req)
	if err != nil {
		return nil, scrub(fmt.Errorf("introspecting a token at %s: %w", endpoint, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, scrub(fmt.Errorf("reading the introspection answer of %s: %w", endpoint, err))
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
			Message     string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		return nil, scrub(fmt.Errorf("introspection at %s answered HTTP %d: %s", endpoint, resp.StatusCode,
			strings.TrimSpace(e.Error+" "+e.Description+" "+e.Message)))
	}
	in, err := ParseIntrospection(body)
	if err != nil {
		return nil, scrub(fmt.Errorf("introspection at %s: %w", endpoint, err))
	}
	return in, nil
}

// ParseIntrospection reads an introspection answer: active (a boolean, or
// "true"), status, created_at and expires_at (Unix seconds, as numbers
// or strings), scope (comma- or space-separated) and auth_type.
func ParseIntrospection(body []byte) (*Introspection, error) {
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("decoding the introspection answer: %w", err)
	}
	out := &Introspection{}
	switch v := raw["active"].(type) {
	case bool:
		out.Active = v
	case string:
		out.Active = v == "true"
	}
	out.Status, _ = raw["status"].(string)
	out.AuthType, _ = raw["auth_type"].(string)
	if s, ok := raw["scope"].(string); ok {
		out.Scopes = strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	}
	var err error
	if out.CreatedAt, err = unixField(raw, "created_at"); err != nil {
		return nil, err
	}
	if out.ExpiresAt, err = unixField(raw, "expires_at"); err != nil {
		return nil, err
	}
	return out, nil
}

// unixField reads Unix seconds under key: zero time when absent.
func unixField(raw map[string]any, key string) (time.Time, error) {
	var s string
	switch v := raw[key].(type) {
	case nil:
		return time.Time{}, nil
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return time.Time{}, fmt.Errorf("introspection field %s: %v is not Unix seconds", key, v)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("introspection field %s: %q is not Unix seconds", key, s)
	}
	return time.Unix(n, 0).UTC(), nil
}
