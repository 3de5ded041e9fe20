package extract

import (
	"errors"
	"net/url"
	"testing"
)

func TestTokenRedirectAllowed(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{"https://www.linkedin.com/oauth/v2/accessToken", "https://www.linkedin.com/oauth/v2/accessToken2", true},
		{"https://www.linkedin.com/oauth/v2/accessToken", "https://WWW.LinkedIn.com/x", true},
		{"http://127.0.0.1:80/a", "https://127.0.0.1:80/b", true},
		{"https://www.linkedin.com/oauth/v2/accessToken", "https://evil.example/steal", false},
		{"https://www.linkedin.com/oauth/v2/accessToken", "https://www.linkedin.com:8443/x", false},
		{"https://www.linkedin.com/oauth/v2/accessToken", "http://www.linkedin.com/oauth/v2/accessToken", false},
	} {
		from, _ := url.Parse(tc.from)
		to, _ := url.Parse(tc.to)
		err := tokenRedirectAllowed(from, to)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrTokenRedirect)) {
			t.Errorf("%s -> %s: %v, want allowed=%v", tc.from, tc.to, err, tc.ok)
		}
	}
}
