package auth_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/auth"
)

func TestParseRedirectURL(t *testing.T) {
	for _, tc := range []struct {
		raw, path, problem string
	}{
		{"http://127.0.0.1:8765/callback", "/callback", ""},
		{"https://localhost:8443/cb", "/cb", ""},
		{"http://[::1]:8765", "/", ""},
		{"http://example.com:8765/callback", "", "loopback"},
		{"http://10.0.0.5:8765/callback", "", "loopback"},
		{"ftp://127.0.0.1:8765/callback", "", "http or https"},
		{"http://127.0.0.1/callback", "", "no port"},
		{"http://127.0.0.1:8765/callback#x", "", "fragment"},
		{"http://u:p@127.0.0.1:8765/callback", "", "no user"},
		{"http://%zz", "", "not a URL"},
	} {
		u, err := auth.ParseRedirectURL(tc.raw)
		switch {
		case tc.problem == "" && (err != nil || u.Path != tc.path):
			t.Errorf("%s: %v, %v", tc.raw, u, err)
		case tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)):
			t.Errorf("%s: %v, want a problem naming %q", tc.raw, err, tc.problem)
		}
	}
}

func TestParseScopes(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []string
	}{
		{auth.DefaultScopes, []string{"r_sales_nav_analytics", "r_sales_nav_display"}},
		{" r_a, r_b ,r_c", []string{"r_a", "r_b", "r_c"}},
		{"", nil},
		{" , ", nil},
		{"r_a r_<b>", nil},
	} {
		got, err := auth.ParseScopes(tc.raw)
		if !slices.Equal(got, tc.want) || (err == nil) != (tc.want != nil) {
			t.Errorf("%q: %q %v, want %q", tc.raw, got, err, tc.want)
		}
	}
}

func TestIntrospectURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://www.linkedin.com/oauth/v2/accessToken":  "https://www.linkedin.com/oauth/v2/introspectToken",
		"http://127.0.0.1:8089/oauth/v2/accessToken?x=1": "http://127.0.0.1:8089/oauth/v2/introspectToken",
	} {
		if got, err := auth.IntrospectURL(raw); err != nil || got != want {
			t.Errorf("%s: %s %v, want %s", raw, got, err, want)
		}
	}
}
