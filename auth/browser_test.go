package auth_test

import (
	"slices"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/auth"
)

func TestHasDisplay(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			if i := slices.Index(kv, k); i >= 0 {
				return kv[i+1]
			}
			return ""
		}
	}
	for _, tc := range []struct {
		goos string
		env  func(string) string
		want bool
	}{
		{"linux", env(), false},
		{"linux", env("DISPLAY", ":0"), true},
		{"linux", env("WAYLAND_DISPLAY", "wayland-0"), true},
		{"freebsd", env("DISPLAY", ""), false},
		{"darwin", env(), true},
		{"windows", env(), true},
	} {
		if got := auth.HasDisplay(tc.goos, tc.env); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.goos, got, tc.want)
		}
	}
}

func TestBrowserCommand(t *testing.T) {
	const u = "https://www.linkedin.com/oauth/v2/authorization?a=1&b=2"
	for _, tc := range []struct {
		goos, browser string
		want          []string
	}{
		{"linux", "", []string{"xdg-open", u}},
		{"darwin", "", []string{"open", u}},
		{"windows", "", []string{"rundll32", "url.dll,FileProtocolHandler", u}},
		{"plan9", "", []string{""}},
		{"linux", "firefox", []string{"firefox", u}},
		{"linux", " firefox  --new-window ", []string{"firefox", "--new-window", u}},
		{"darwin", "chrome --app=%s --x", []string{"chrome", "--app=" + u, "--x"}},
	} {
		name, args := auth.BrowserCommand(tc.goos, tc.browser, u)
		if got := append([]string{name}, args...); !slices.Equal(got, tc.want) {
			t.Errorf("%s %q: %q, want %q", tc.goos, tc.browser, got, tc.want)
		}
	}
}
