package auth

import (
	"fmt"
	"os/exec"
)

// HasDisplay reports whether the system goos, with the environment
// getenv, has a desktop to open a browser on: macOS and Windows always;
// elsewhere an X11 or Wayland display (DISPLAY, WAYLAND_DISPLAY).
func HasDisplay(goos string, getenv func(string) string) bool {
	switch goos {
	case "darwin", "windows":
		return true
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

// BrowserCommand is the command that opens url in the desktop's browser
// on goos (xdg-open, open, rundll32), run without a shell; "" when goos
// has none.
func BrowserCommand(goos, url string) (name string, args []string) {
	switch goos {
	case "darwin":
		return "open", []string{url}
	case "windows":
		return "rundll32", []string{"url.dll,FileProtocolHandler", url}
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly", "solaris", "illumos":
		return "xdg-open", []string{url}
	}
	return "", nil
}

// OpenBrowser starts the browser of goos on url and does not wait for it
// (its output is discarded, never mixed with ours).
func OpenBrowser(goos, url string) error {
	name, args := BrowserCommand(goos, url)
	if name == "" {
		return fmt.Errorf("opening a browser: no command for %s", goos)
	}
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("opening a browser with %s: %w", name, err)
	}
	go cmd.Wait() //nolint:errcheck // the browser's exit says nothing about the sign-in
	return nil
}
