package auth

import (
	"fmt"
	"os/exec"
	"strings"
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

// BrowserCommand is the command that opens url in the desktop's browser,
// run without a shell: the BROWSER variable's command when it is set (its
// words, "%s" replaced by the URL, or the URL after them), else xdg-open,
// open or rundll32 by goos; "" when there is none.
func BrowserCommand(goos, browser, url string) (name string, args []string) {
	if words := strings.Fields(browser); len(words) > 0 {
		args, placed := words[1:], false
		for i, a := range args {
			if strings.Contains(a, "%s") {
				args[i], placed = strings.ReplaceAll(a, "%s", url), true
			}
		}
		if !placed {
			args = append(args, url)
		}
		return words[0], args
	}
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

// OpenBrowser starts the browser (BrowserCommand) on url and does not
// wait for it; its output is discarded, never mixed with ours.
func OpenBrowser(goos, browser, url string) error {
	name, args := BrowserCommand(goos, browser, url)
	if name == "" {
		return fmt.Errorf("opening a browser: no command for %s (set BROWSER)", goos)
	}
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("opening a browser with %s: %w", name, err)
	}
	go cmd.Wait() //nolint:errcheck // the browser's exit says nothing about the sign-in
	return nil
}
