package userdir

import (
	"errors"
	"path/filepath"
	"runtime"
)

// Config is alilogin's configuration directory: $XDG_CONFIG_HOME/alilogin
// or ~/.config/alilogin, ~/Library/Application Support/alilogin on macOS,
// %AppData%\alilogin on Windows.
func Config(getenv func(string) string) (string, error) {
	return dir(getenv, "config", "AppData", "XDG_CONFIG_HOME", ".config")
}

// State is alilogin's state directory: $XDG_STATE_HOME/alilogin or
// ~/.local/state/alilogin, ~/Library/Application Support/alilogin on
// macOS, %LocalAppData%\alilogin on Windows.
func State(getenv func(string) string) (string, error) {
	return dir(getenv, "state", "LocalAppData", "XDG_STATE_HOME", filepath.Join(".local", "state"))
}

// dir is the user directory of the given kind: windowsVar on Windows,
// Application Support on macOS, else xdgVar when absolute, else
// underHome in HOME.
func dir(getenv func(string) string, kind, windowsVar, xdgVar, underHome string) (string, error) {
	var base string
	switch runtime.GOOS {
	case "windows":
		base = getenv(windowsVar)
	case "darwin":
		if h := getenv("HOME"); h != "" {
			base = filepath.Join(h, "Library", "Application Support")
		}
	default:
		base = getenv(xdgVar)
		if base == "" || !filepath.IsAbs(base) {
			base = ""
			if h := getenv("HOME"); h != "" {
				base = filepath.Join(h, underHome)
			}
		}
	}
	if base == "" {
		return "", errors.New("could not find the user " + kind + " directory: HOME is not set")
	}
	return filepath.Join(base, "alilogin"), nil
}
