package oidc

import (
	"io"
	"runtime"

	"github.com/cli/browser"
)

// Browser opens a URL for the user.
type Browser interface {
	Open(url string) error
}

// SystemBrowser opens the system's default browser through cli/browser.
// Whatever the launcher prints goes to Output (stderr), never to stdout.
type SystemBrowser struct{ Output io.Writer }

// Open starts the browser on url.
func (b SystemBrowser) Open(url string) error {
	browser.Stdout, browser.Stderr = b.Output, b.Output
	return browser.OpenURL(url)
}

// CanShowBrowser reports whether a browser can be shown to the user: not
// on Linux/BSD without DISPLAY or WAYLAND_DISPLAY, and not in an SSH
// session without a forwarded display. When it cannot, login uses the
// device flow.
func CanShowBrowser(getenv func(string) string) bool {
	display := getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
	ssh := getenv("SSH_CONNECTION") != "" || getenv("SSH_CLIENT") != "" || getenv("SSH_TTY") != ""
	switch runtime.GOOS {
	case "windows", "darwin":
		return !ssh || display
	default:
		return display
	}
}
