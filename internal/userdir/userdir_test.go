package userdir

import (
	"runtime"
	"testing"
)

func TestDirs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG layout")
	}
	for _, tc := range []struct {
		name          string
		env           map[string]string
		config, state string
	}{
		{"home", map[string]string{"HOME": "/h"}, "/h/.config/alilogin", "/h/.local/state/alilogin"},
		{"xdg", map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/c", "XDG_STATE_HOME": "/s"}, "/c/alilogin", "/s/alilogin"},
		{"relative xdg ignored", map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "c", "XDG_STATE_HOME": "s"}, "/h/.config/alilogin", "/h/.local/state/alilogin"},
		{"xdg without home", map[string]string{"XDG_CONFIG_HOME": "/c", "XDG_STATE_HOME": "/s"}, "/c/alilogin", "/s/alilogin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			if got, err := Config(getenv); err != nil || got != tc.config {
				t.Errorf("Config = %q, %v; want %q", got, err, tc.config)
			}
			if got, err := State(getenv); err != nil || got != tc.state {
				t.Errorf("State = %q, %v; want %q", got, err, tc.state)
			}
		})
	}
	none := func(string) string { return "" }
	if _, err := Config(none); err == nil || err.Error() != "could not find the user config directory: HOME is not set" {
		t.Errorf("Config without HOME: %v", err)
	}
	if _, err := State(none); err == nil || err.Error() != "could not find the user state directory: HOME is not set" {
		t.Errorf("State without HOME: %v", err)
	}
}
